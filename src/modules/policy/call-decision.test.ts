import { describe, expect, it } from 'vitest';
import { EMERGENCY_NUMBERS } from '../../kernel/e164.ts';
import { decideCall, type CallFacts } from './call-decision.ts';

const base: CallFacts = {
  serviceState: 'active',
  enabled: [],
  destination: '+33187654321',
  internal: false,
  presentedCallerId: null,
  privacy: false,
  clientNumbers: new Set(['+3243210001', '+3243210002']),
  userNumber: '+3243210002',
  mainNumber: '+3243210001',
  emergencyNumbers: EMERGENCY_NUMBERS,
};

describe('decideCall', () => {
  it('§13.1 refuses every call of a terminated client, emergency included', () => {
    for (const destination of ['112', '+33187654321']) {
      expect(decideCall({ ...base, serviceState: 'terminated', destination })).toMatchObject({ allowed: false, sipStatus: 403, clause: '13.1' });
    }
    expect(decideCall({ ...base, serviceState: null })).toMatchObject({ allowed: false, clause: '13.1' });
  });

  it('§8.7 lets emergency numbers through in every other state, on the emergency route', () => {
    for (const serviceState of ['active', 'minimum_service', 'security_suspended'] as const) {
      for (const destination of ['112', '100', '101']) {
        expect(decideCall({ ...base, serviceState, destination })).toMatchObject({ allowed: true, emergency: true });
      }
    }
  });

  it('§8.7 / §9.2 refuse non-emergency calls under minimum service or security suspension', () => {
    expect(decideCall({ ...base, serviceState: 'minimum_service' })).toMatchObject({ allowed: false, sipStatus: 403, clause: '8.7' });
    expect(decideCall({ ...base, serviceState: 'security_suspended' })).toMatchObject({ allowed: false, sipStatus: 403, clause: '9.2' });
    expect(decideCall({ ...base, serviceState: 'minimum_service', internal: true, destination: '102' })).toMatchObject({ allowed: false, clause: '8.7' });
  });

  it('§4.3b bars +3290 unless the contract enables premium', () => {
    expect(decideCall({ ...base, destination: '+3290123456' })).toMatchObject({ allowed: false, sipStatus: 403, clause: '4.3b' });
    expect(decideCall({ ...base, destination: '+3290123456', enabled: ['premium'] })).toMatchObject({ allowed: true, emergency: false });
    expect(decideCall({ ...base, destination: '+3291123456' })).toMatchObject({ allowed: true });
  });

  describe('§17.1 caller ID', () => {
    it('no presented caller ID → the user own number, not a replacement', () => {
      expect(decideCall(base)).toMatchObject({ allowed: true, callerId: '+3243210002', callerIdReplaced: false });
    });
    it('a presented number of the client is kept', () => {
      expect(decideCall({ ...base, presentedCallerId: '+3243210001' })).toMatchObject({ callerId: '+3243210001', callerIdReplaced: false });
    });
    it('a foreign number is replaced by the user number, else the main number, else null', () => {
      expect(decideCall({ ...base, presentedCallerId: '+3299999999' })).toMatchObject({ callerId: '+3243210002', callerIdReplaced: true });
      expect(decideCall({ ...base, presentedCallerId: '+3299999999', userNumber: null })).toMatchObject({ callerId: '+3243210001', callerIdReplaced: true });
      expect(decideCall({ ...base, presentedCallerId: '+3299999999', userNumber: null, mainNumber: null, clientNumbers: new Set() })).toMatchObject({
        callerId: null,
        callerIdReplaced: true,
      });
    });
    it('applies to emergency calls too; privacy stays anonymous', () => {
      expect(decideCall({ ...base, destination: '112', presentedCallerId: '+3299999999' })).toMatchObject({ emergency: true, callerIdReplaced: true });
      expect(decideCall({ ...base, privacy: true, presentedCallerId: '+3299999999' })).toMatchObject({ callerId: null, callerIdReplaced: false });
    });
  });
});
