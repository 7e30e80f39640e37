import { describe, expect, it } from 'vitest';
import { type AdmitRequest, memoryAdmissionStore } from './admission-store.ts';
import { MAX_CALL_MS } from './limits.ts';

const request = (id: string, atMs: number, maxConcurrent = 2): AdmitRequest => ({
  id,
  clientId: 'c1',
  userId: null,
  atMs,
  checkLimits: true,
  barred: false,
  occupiesSlot: true,
  spendRate: null,
  maxConcurrent,
  maxAttempts: 100,
  maxSpendMicros: 1e12,
  resetMs: 0,
});

describe('memoryAdmissionStore: calls whose `ended` was lost', () => {
  it('frees their slots once older than the maximum call duration, not before', async () => {
    const s = memoryAdmissionStore();
    const t0 = 1_000_000;
    expect((await s.admit(request('a', t0))).admitted).toBe(true);
    expect((await s.admit(request('b', t0 + 1000))).admitted).toBe(true);
    // Both slots taken up to a's maximum duration.
    const full = await s.admit(request('x', t0 + MAX_CALL_MS));
    expect(full).toMatchObject({ admitted: false, liveOutboundCalls: 2 });
    // Past it, a is dropped (lost `ended`) but b still counts until its own maximum.
    const one = await s.admit(request('c', t0 + MAX_CALL_MS + 1));
    expect(one).toMatchObject({ admitted: true, liveOutboundCalls: 1 });
    expect(await s.ended('a', t0 + MAX_CALL_MS + 2)).toBeNull();
    expect((await s.admit(request('y', t0 + MAX_CALL_MS + 999))).liveOutboundCalls).toBe(2);
    const later = await s.admit(request('d', t0 + 1000 + MAX_CALL_MS + 1));
    expect(later).toMatchObject({ admitted: true, liveOutboundCalls: 1 });
    expect(await s.ended('b', t0 + 1000 + MAX_CALL_MS + 2)).toBeNull();
    expect(await s.ended('c', t0 + 1000 + MAX_CALL_MS + 2)).toMatchObject({ clientId: 'c1' });
  });

  it('keeps a call admitted at an earlier instant than the others (a clock set back) until its own maximum', async () => {
    const s = memoryAdmissionStore();
    const t0 = 10_000_000;
    await s.admit(request('late', t0, 3));
    await s.admit(request('early', t0 - 5000, 3));
    // Nothing is expired yet: the scan is skipped, both count.
    expect((await s.admit(request('x', t0 - 5000 + MAX_CALL_MS, 3))).liveOutboundCalls).toBe(2);
    // early is dropped, late and x still count.
    expect((await s.admit(request('y', t0 - 5000 + MAX_CALL_MS + 1, 3))).liveOutboundCalls).toBe(2);
    expect(await s.ended('early', t0)).toBeNull();
    expect(await s.ended('late', t0)).toMatchObject({ clientId: 'c1', spent: false });
  });
});
