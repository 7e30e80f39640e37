import { describe, expect, it } from 'vitest';
import { permissiveCallPolicy } from './policy.ts';

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
