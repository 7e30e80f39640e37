import { describe, expect, it } from 'vitest';
import { EMERGENCY_NUMBERS } from '../../kernel/e164.ts';
import { decideCall, destinationClass, limitTrip, type CallFacts, type LimitFacts } from './call-decision.ts';

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
    it('P-Asserted-Identity is the true number: own, else main, else null — whatever is presented, anonymous included', () => {
      expect(decideCall({ ...base, presentedCallerId: '+3243210001' })).toMatchObject({ callerId: '+3243210001', assertedIdentity: '+3243210002' });
      expect(decideCall({ ...base, privacy: true })).toMatchObject({ callerId: null, assertedIdentity: '+3243210002' });
      expect(decideCall({ ...base, userNumber: null })).toMatchObject({ assertedIdentity: '+3243210001' });
      expect(decideCall({ ...base, userNumber: null, mainNumber: null, clientNumbers: new Set() })).toMatchObject({ assertedIdentity: null });
    });
  });
});

const limits: LimitFacts = {
  liveOutboundCalls: 0,
  maxConcurrentCalls: 4,
  userAttemptsLastMinute: 0,
  maxAttemptsPerUserPerMinute: 20,
  spendMicrosLastHour: 0,
  maxSpendMicrosPerHour: 50_000_000,
};

describe('§4.3b destination barring', () => {
  const risky = { ...base, highRiskPrefixes: ['+881', '+882'] };
  it('bars the high-risk list unless enable: [international]', () => {
    expect(decideCall({ ...risky, destination: '+8816123456' })).toMatchObject({ allowed: false, sipStatus: 403, clause: '4.3b' });
    expect(decideCall({ ...risky, destination: '+8816123456', enabled: ['international'] })).toMatchObject({ allowed: true });
    expect(decideCall({ ...risky, destination: '+8816123456', enabled: ['premium'] })).toMatchObject({ allowed: false, clause: '4.3b' });
  });
  it('refuses every international call when the client disables them, not national or premium-enabled ones', () => {
    const off = { ...risky, internationalCalls: false };
    expect(decideCall({ ...off, destination: '+33187654321' })).toMatchObject({ allowed: false, clause: '4.3b' });
    expect(decideCall({ ...off, destination: '+8816123456', enabled: ['international'] })).toMatchObject({ allowed: false, clause: '4.3b' });
    expect(decideCall({ ...off, destination: '+3243000000' })).toMatchObject({ allowed: true });
    expect(decideCall({ ...off, destination: '+3290123456', enabled: ['premium'] })).toMatchObject({ allowed: true });
    expect(decideCall({ ...off, destination: '112' })).toMatchObject({ allowed: true, emergency: true });
  });
  it('classifies destinations', () => {
    const c = (destination: string | null, internal = false) => destinationClass({ ...risky, destination, internal });
    expect([c('112'), c('102', true), c('+3243000000'), c('+3290111111'), c('+8821234567'), c('+33123456789'), c(null), c('1307')]).toEqual([
      'emergency',
      'internal',
      'national',
      'premium',
      'high_risk',
      'international',
      'unknown',
      'unknown',
    ]);
  });
});

describe('§4.3b/§4.10 live limits', () => {
  const withLimits = (l: Partial<LimitFacts>) => ({ ...base, limits: { ...limits, ...l } });

  it('concurrency: the call that reaches the limit goes through, the next one is refused 403 §4.3b without suspension', () => {
    expect(decideCall(withLimits({ liveOutboundCalls: 3 }))).toMatchObject({ allowed: true });
    const refused = decideCall(withLimits({ liveOutboundCalls: 4 }));
    expect(refused).toMatchObject({ allowed: false, sipStatus: 403, clause: '4.3b' });
    expect(refused).not.toHaveProperty('trip');
    // internal calls take no outbound slot
    expect(decideCall({ ...withLimits({ liveOutboundCalls: 4 }), internal: true, destination: '102' })).toMatchObject({ allowed: true });
  });

  it('attempts: the 20th attempt in the minute is allowed, the 21st trips a security suspension (§9.2)', () => {
    expect(decideCall(withLimits({ userAttemptsLastMinute: 19 }))).toMatchObject({ allowed: true });
    expect(decideCall(withLimits({ userAttemptsLastMinute: 20 }))).toMatchObject({
      allowed: false,
      sipStatus: 403,
      clause: '9.2',
      trip: { limit: 'call_attempts', clause: '4.3b', observed: 21, max: 20 },
    });
  });

  it('spend: exactly 50 € is allowed, 50 € + 1 µ€ trips (§4.10)', () => {
    expect(decideCall(withLimits({ spendMicrosLastHour: 50_000_000 }))).toMatchObject({ allowed: true });
    expect(decideCall(withLimits({ spendMicrosLastHour: 50_000_001 }))).toMatchObject({
      allowed: false,
      clause: '9.2',
      trip: { limit: 'spend', clause: '4.10', observed: 50_000_001, max: 50_000_000 },
    });
    expect(limitTrip({ ...limits, spendMicrosLastHour: 50_000_000 })).toBeNull();
  });

  it('emergency goes through whatever the counters and during a security suspension', () => {
    const flooded = withLimits({ liveOutboundCalls: 99, userAttemptsLastMinute: 99, spendMicrosLastHour: 99_000_000 });
    expect(decideCall({ ...flooded, destination: '112' })).toMatchObject({ allowed: true, emergency: true });
    expect(decideCall({ ...flooded, serviceState: 'security_suspended', destination: '101' })).toMatchObject({ allowed: true, emergency: true });
    expect(decideCall({ ...flooded, serviceState: 'security_suspended' })).toMatchObject({ allowed: false, clause: '9.2' });
    expect(decideCall({ ...flooded, serviceState: 'security_suspended' })).not.toHaveProperty('trip');
  });

  it('the attempt limit applies before barring: a flood of barred premium calls still trips', () => {
    expect(decideCall({ ...withLimits({ userAttemptsLastMinute: 20 }), destination: '+3290123456' })).toMatchObject({ clause: '9.2', trip: { limit: 'call_attempts' } });
  });
});
