/** The rating module's public API (§8.3 call pricing and packs). */
export { rateCalls, type RatableCall, type PackPool, type RatedCall } from './call-rating.ts';
export { packAllowanceSeconds, serviceDaysInMonth } from './pack-allowance.ts';
export { rateClientMonth, rateClientsMonth, rateClientMonthInMemory, rateCdr, packPoolsOf } from './rate-client-month.ts';
