/**
 * Calls for the §8.3 rating tests: an arbitrary call of December 2026 (fast-check, a day
 * either side of the month included) and its `cdrs` row, and one answered outbound call.
 */
import fc from 'fast-check';
import { newId } from '../../src/kernel/ids.ts';
import { cdrs } from '../../src/telephony/cdr-schema.ts';

export const DEC = Date.parse('2026-12-01T00:00:00+01:00');
const MONTH_MS = Date.parse('2027-01-01T00:00:00+01:00') - DEC;
const DESTINATIONS = ['+3222223344', '+32470123456', '+33187650000', '+4930123456', '112', '101'];

export const arbitraryCall = fc.record({
  offsetMs: fc.integer({ min: -86_400_000, max: MONTH_MS + 86_400_000 }),
  destination: fc.constantFrom(...DESTINATIONS),
  direction: fc.constantFrom('outbound', 'outbound', 'outbound', 'inbound', 'internal'),
  emergency: fc.oneof(fc.constant(false), fc.constant(false), fc.constant(true)),
  allowed: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
  ended: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(true), fc.constant(false)),
  billableSeconds: fc.integer({ min: 0, max: 3_000 }),
  invoiced: fc.option(fc.record({ packSeconds: fc.integer({ min: 0, max: 3_000 }), costCents: fc.integer({ min: 0, max: 500 }) }), { freq: 4 }),
});

/** The row of a generated call of the client (an invoiced one rated BE-FIXED with its recorded pack and cost). */
export function callRow(clientId: string, c: typeof arbitraryCall extends fc.Arbitrary<infer T> ? T : never): typeof cdrs.$inferInsert {
  const startedAt = new Date(DEC + c.offsetMs);
  return {
    id: newId(),
    clientId,
    direction: c.direction,
    dialled: c.destination,
    destination: c.destination,
    emergency: c.emergency,
    allowed: c.allowed,
    sipStatus: 200,
    startedAt,
    endedAt: c.ended ? new Date(startedAt.getTime() + c.billableSeconds * 1000) : null,
    billableSeconds: c.billableSeconds,
    ...(c.invoiced ? { ratedAt: startedAt, zone: 'BE-FIXED', packSeconds: c.invoiced.packSeconds, costCents: c.invoiced.costCents, invoiceId: newId() } : {}),
  };
}

/** An answered outbound call to a Belgian fixed number, `seconds` long. */
export function answeredCall(clientId: string, startedAt: Date, seconds: number, extra: Partial<typeof cdrs.$inferInsert> = {}): typeof cdrs.$inferInsert {
  return {
    id: newId(),
    clientId,
    direction: 'outbound',
    dialled: '+3222223344',
    destination: '+3222223344',
    allowed: true,
    sipStatus: 200,
    startedAt,
    answeredAt: startedAt,
    endedAt: new Date(startedAt.getTime() + seconds * 1000),
    billableSeconds: seconds,
    ...extra,
  };
}
