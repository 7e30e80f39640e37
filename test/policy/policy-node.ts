/**
 * One "SIP node" of the two-process test: opens its own pool on the database named by
 * argv[2], waits for the instant argv[5] (ms since epoch) so both nodes start together,
 * then decides argv[4] outbound calls of client argv[3] at once and prints how many
 * were admitted as JSON. With argv[6] (a Redis URL), argv[7] (key prefix) and argv[8]
 * (node id): the fast policy (issue #7) with the Redis admission store instead of the
 * database gate; its decision rows are flushed before it exits.
 */
import { openDatabase } from '../../src/db/client.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { dbCallPolicy } from '../../src/modules/policy/db-call-policy.ts';
import { fastCallPolicy } from '../../src/modules/policy/fast-call-policy.ts';
import { redisAdmissionStore } from '../../src/modules/policy/redis-admission-store.ts';
import { outboundAttempt } from '../support/call-attempt.ts';

const [url, clientId, count, startAt, redisUrl, prefix, nodeId] = process.argv.slice(2);
const database = await openDatabase({ url: url! });
try {
  const store = redisUrl ? redisAdmissionStore({ url: redisUrl, prefix: prefix!, nodeId: nodeId! }) : null;
  const fast = store ? fastCallPolicy({ db: database.db, clock: systemClock, store }) : null;
  const policy = fast ?? dbCallPolicy({ db: database.db, clock: systemClock });
  await database.ping();
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const decisions = await Promise.all(
    Array.from({ length: Number(count) }, () =>
      policy.decide(outboundAttempt(clientId!)),
    ),
  );
  await fast?.close(); // the decision rows are written
  await store?.close();
  process.stdout.write(`${JSON.stringify({ allowed: decisions.filter((d) => d.allowed).length, refused: decisions.filter((d) => !d.allowed).length })}\n`);
} finally {
  await database.close();
}
