import { describe, expect, it } from 'vitest';
import { principalFor, type Principal } from './principal.ts';
import { AccessDenied, assertTenant, scopeClientId } from './tenancy.ts';

const A = '01900000-0000-7000-8000-00000000000a';
const B = '01900000-0000-7000-8000-00000000000b';
const staff: Principal = principalFor({ id: 's', email: 's@x', role: 'support', clientId: null }, 'session');
const clientA: Principal = principalFor({ id: 'c', email: 'c@x', role: 'client_admin', clientId: A }, 'session');

function denial(fn: () => unknown): AccessDenied {
  try {
    fn();
  } catch (e) {
    if (e instanceof AccessDenied) return e;
    throw e;
  }
  throw new Error('expected an AccessDenied');
}

describe('tenancy rule', () => {
  it('pins a client principal to its own client and answers 404 for another', () => {
    expect(scopeClientId(clientA, undefined)).toBe(A);
    expect(scopeClientId(clientA, A)).toBe(A);
    const e = denial(() => scopeClientId(clientA, B));
    expect(e).toMatchObject({ status: 404, code: 'NOT_FOUND', reason: 'tenant', target: { entity: 'client', entityId: B, clientId: B } });
  });

  it('lets staff reach every tenant', () => {
    expect(scopeClientId(staff, undefined)).toBeUndefined();
    expect(scopeClientId(staff, B)).toBe(B);
    expect(() => assertTenant(staff, B, { entity: 'account', entityId: 'x' })).not.toThrow();
    expect(() => assertTenant(staff, null, { entity: 'account', entityId: 'x' })).not.toThrow();
  });

  it('refuses a client principal rows of another tenant and staff-only rows', () => {
    expect(() => assertTenant(clientA, A, { entity: 'account', entityId: 'x' })).not.toThrow();
    expect(denial(() => assertTenant(clientA, B, { entity: 'account', entityId: 'x' })).target).toEqual({ entity: 'account', entityId: 'x', clientId: B });
    expect(denial(() => assertTenant(clientA, null, { entity: 'account', entityId: 'y' })).status).toBe(404);
  });
});
