/**
 * One "SIP node" of the two-process test: opens its own pool on the database named by
 * argv[2], waits for the instant argv[5] (ms since epoch) so both nodes start together,
 * then decides argv[4] outbound calls of client argv[3] at once and prints how many
 * were admitted as JSON.
 */
import { openDatabase } from '../../src/db/client.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { dbCallPolicy } from '../../src/modules/policy/db-call-policy.ts';

const [url, clientId, count, startAt] = process.argv.slice(2);
const database = await openDatabase({ url: url! });
try {
  const policy = dbCallPolicy({ db: database.db, clock: systemClock });
  await database.ping();
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const decisions = await Promise.all(
    Array.from({ length: Number(count) }, () =>
      policy.decide({
        clientId: clientId!,
        userId: newId(new Date()),
        fromExtension: '101',
        dialled: '+3243000000',
        normalised: '+3243000000',
        presentedCallerId: null,
        privacy: false,
      }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ allowed: decisions.filter((d) => d.allowed).length, refused: decisions.filter((d) => !d.allowed).length })}\n`);
} finally {
  await database.close();
}
