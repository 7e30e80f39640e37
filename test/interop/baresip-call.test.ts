/**
 * Two baresip 1.0 phones, registered (UDP, MD5) as users 201 and 202 of one client (not 101: a Belgian emergency number, never an extension),
 * call each other through the B2BUA, both ways: each auto-answers (`answermode=auto`),
 * sends a tone read from a WAV file this test writes (`aufile`; the media flows end to
 * end), and is driven over its `ctrl_tcp` socket (`dial`, `hangup`). The call must be
 * established (the CDR is answered with 200) and, hung up N seconds after the answer,
 * its CDR must bill N seconds (ceil of answer → end, so N or N + 1 with the test's
 * polling). Skipped only when baresip is absent; each phone is killed by its pid; every
 * wait is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/kernel/clock.ts';
import { newId } from '../../src/kernel/ids.ts';
import { cdrs } from '../../src/telephony/cdr-schema.ts';
import { MemoryDirectory } from '../../src/telephony/directory.ts';
import { activeBindings } from '../../src/telephony/location.ts';
import {
  type InteropServer,
  type Run,
  addInteropUser,
  baresipCommand,
  baresipConfig,
  freeTcpPort,
  has,
  run,
  startInteropServer,
  waitFor,
  writeToneWav,
} from './helpers.ts';

const HAS_BARESIP = has('baresip');
const HOST = '127.0.0.1';
const PASSWORD = 'bR5nW8qT2xK7mV4cZ9pL';
const CLIENT = newId();
const TALK_SECONDS = 3;

interface Phone {
  user: string;
  userId: string;
  ctrlPort: number;
  /** What it has printed so far. */
  log: string;
  /** Resolves when the process has ended (SIGTERM once `stop` is set, SIGKILL after 90 s). */
  exited: Promise<Run>;
  stop: () => void;
}

describe('interop: two baresip phones call each other through the B2BUA (UDP, MD5, auto-answer, audio from a file)', () => {
  let sip: InteropServer;
  const dir = mkdtempSync(join(tmpdir(), 'e2p-baresip-call-'));
  const wav = join(dir, 'tone.wav');
  const directory = new MemoryDirectory();
  const phones = new Map<string, Phone>();

  async function startPhone(user: string): Promise<Phone> {
    const userId = addInteropUser(directory, { userId: newId(), clientId: CLIENT, username: user, extension: user, password: PASSWORD });
    const home = mkdtempSync(join(dir, `${user}-`));
    const ctrlPort = await freeTcpPort();
    baresipConfig(home, { account: user, password: PASSWORD, server: sip.udp, ctrlPort, wav, accountParams: ['answermode=auto'] });
    let stopping = false;
    const phone: Phone = { user, userId, ctrlPort, log: '', exited: Promise.resolve({ code: null, signal: null, output: '' }), stop: () => (stopping = true) };
    phone.exited = run('baresip', ['-f', home], { limitMs: 90_000, until: () => Promise.resolve(stopping), onOutput: (text) => (phone.log += text) });
    return phone;
  }

  beforeAll(async () => {
    if (!HAS_BARESIP) return;
    writeToneWav(wav, 20);
    sip = await startInteropServer(directory, 'interop-baresip-secret-interop-baresip-secret');
    for (const user of ['201', '202']) phones.set(user, await startPhone(user));
    const start = { gone: false }; // a phone that exits at start (bad config) fails the wait at once
    for (const p of phones.values()) void p.exited.then(() => (start.gone = true));
    const registered = await waitFor(async () => {
      if (start.gone) return true;
      for (const user of phones.keys()) if ((await activeBindings(sip.database.db, `sip:${user}@${HOST}`, systemClock.now())).length === 0) return false;
      return true;
    }, 15_000);
    if (!registered || start.gone) {
      for (const p of phones.values()) p.stop();
      const outputs = await Promise.all([...phones.values()].map((p) => p.exited));
      throw new Error(`baresip did not register:\n${outputs.map((o) => o.output).join('\n----\n')}`);
    }
  }, 30_000);

  afterAll(async () => {
    if (HAS_BARESIP) {
      for (const p of phones.values()) p.stop();
      await Promise.all([...phones.values()].map((p) => p.exited));
      await sip.server.close();
      await sip.database.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }, 100_000); // baresip un-REGISTERs on SIGTERM (a few ms); SIGKILL 90 s after its start at the latest

  const cdrsOf = async () => sip.database.db.select().from(cdrs).where(eq(cdrs.clientId, CLIENT));

  const count = (text: string, what: string): number => text.split(what).length - 1;

  /**
   * `from` dials `to`; `hangup` (either phone) hangs up TALK_SECONDS − 0.5 s after the answer the
   * CDR records, so that the call bills TALK_SECONDS (its BYE has 500 ms to reach us). Checks that
   * both phones established the call and receive the other's audio (end to end RTP).
   */
  async function call(from: string, to: string, hangup: string) {
    const [caller, callee] = [phones.get(from)!, phones.get(to)!];
    const before = new Set((await cdrsOf()).map((c) => c.id));
    const fresh = async () => (await cdrsOf()).filter((c) => !before.has(c.id));
    const established = [caller, callee].map((p) => count(p.log, 'Call established'));
    const rtp = [caller, callee].map((p) => count(p.log, "incoming rtp for 'audio' established"));
    const dial = await baresipCommand(caller.ctrlPort, 'dial', `sip:${to}@${HOST}:${sip.udp.port}`);
    expect(dial.ok, dial.data).toBe(true);
    let answeredAt = 0;
    const answered = await waitFor(async () => {
      answeredAt = (await fresh()).find((c) => c.answeredAt !== null)?.answeredAt?.getTime() ?? 0;
      return answeredAt > 0;
    }, 10_000);
    expect(answered, `no answer:\n${caller.log}\n----\n${callee.log}`).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, answeredAt + TALK_SECONDS * 1000 - 500 - Date.now())));
    const bye = await baresipCommand(phones.get(hangup)!.ctrlPort, 'hangup');
    expect(bye.ok, bye.data).toBe(true);
    expect(await waitFor(async () => (await fresh()).every((c) => c.endedAt !== null), 10_000), 'the call is ended').toBe(true);
    await sip.server.idle();
    [caller, callee].forEach((p, i) => {
      expect(count(p.log, 'Call established'), p.log).toBe(established[i]! + 1);
      expect(count(p.log, "incoming rtp for 'audio' established"), p.log).toBe(rtp[i]! + 1);
      expect(p.log).toContain('audio tx pipeline:      aufile ---> PCMU');
    });
    const rows = await fresh();
    expect(rows).toHaveLength(1);
    const cdr = rows[0]!;
    const talked = cdr.endedAt!.getTime() - cdr.answeredAt!.getTime();
    expect(cdr.billableSeconds).toBe(Math.ceil(talked / 1000));
    expect(cdr.billableSeconds, `answered → ended: ${talked} ms`).toBe(TALK_SECONDS);
    return cdr;
  }

  it.skipIf(!HAS_BARESIP)('201 calls 202, 202 answers by itself, 201 hangs up 2.5 s after the answer: the CDR is answered (200) and bills 3 s', async () => {
    const cdr = await call('201', '202', '201');
    expect(cdr).toMatchObject({ direction: 'internal', userId: phones.get('201')!.userId, dialled: '202', destination: '202', sipStatus: 200, hangupBy: 'caller', endReason: 'bye' });
  });

  it.skipIf(!HAS_BARESIP)('202 calls 201, 201 answers by itself and hangs up 2.5 s after the answer: the CDR is answered (200) and bills 3 s', async () => {
    const cdr = await call('202', '201', '201');
    expect(cdr).toMatchObject({ direction: 'internal', userId: phones.get('202')!.userId, dialled: '201', destination: '201', sipStatus: 200, hangupBy: 'callee', endReason: 'bye' });
  });
});
