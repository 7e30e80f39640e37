import { describe, expect, it } from 'vitest';
import { type CallPolicy, type DecisionKind, permissiveCallPolicy, timedCallPolicy } from './policy.ts';

const call = { clientId: 'c', userId: 'u', fromExtension: '201', presentedCallerId: '+3221234567', privacy: false };

describe('permissiveCallPolicy', () => {
  it('allows calls with the presented caller ID and sends 112, 100 and 101 to the emergency route', async () => {
    const policy = permissiveCallPolicy();
    for (const n of ['112', '100', '101']) {
      expect(await policy.decide({ ...call, dialled: n, normalised: n })).toEqual({ allowed: true, callerId: '+3221234567', emergency: true });
    }
    expect(await policy.decide({ ...call, dialled: '0470123456', normalised: '+32470123456' })).toEqual({
      allowed: true,
      callerId: '+3221234567',
      emergency: false,
    });
  });

  it('presents no caller ID when privacy is asked, and takes a configured emergency list', async () => {
    const policy = permissiveCallPolicy(['112', '1722']);
    expect(await policy.decide({ ...call, privacy: true, dialled: '1722', normalised: null })).toEqual({ allowed: true, callerId: null, emergency: true });
    expect(await policy.decide({ ...call, dialled: '101', normalised: '101' })).toMatchObject({ emergency: false });
  });
});

describe('timedCallPolicy', () => {
  it('reports how long each decision took, refusals and failures included, and passes the hooks through', async () => {
    let release: (() => void) | undefined;
    const hooks: string[] = [];
    const slow: CallPolicy = {
      ...permissiveCallPolicy(),
      decide: (c) =>
        c.dialled === 'boom'
          ? Promise.reject(new Error('database down'))
          : new Promise((resolve) => (release = () => resolve({ allowed: false, sipStatus: 403, clause: '4.3b', reason: 'barred' }))),
      answered: (a) => Promise.resolve(void hooks.push(`answered ${a}`)),
      ended: (a) => Promise.resolve(void hooks.push(`ended ${a}`)),
    };
    const seen: [DecisionKind, number][] = [];
    const policy = timedCallPolicy(slow, (kind, seconds) => seen.push([kind, seconds]));
    const pending = policy.decide({ ...call, dialled: '0903123456', normalised: '+32903123456' });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
    release!();
    expect(await pending).toMatchObject({ allowed: false, clause: '4.3b' });
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe('outbound');
    expect(seen[0]![1]).toBeGreaterThanOrEqual(0.015);
    await expect(policy.decide({ ...call, dialled: 'boom', normalised: null })).rejects.toThrow('database down');
    expect(await policy.decideInbound({ clientId: 'c', userId: null, did: '+3223456789', callerNumber: null })).toMatchObject({ allowed: true });
    expect(seen.map(([k]) => k)).toEqual(['outbound', 'outbound', 'inbound']);
    await policy.answered('adm', new Date(0));
    await policy.ended('adm', new Date(0));
    expect(hooks).toEqual(['answered adm', 'ended adm']);
  });
});
