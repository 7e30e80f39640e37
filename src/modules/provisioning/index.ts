/**
 * The provisioning module's public service API: users/extensions and their SIP
 * credentials, the number inventory (reservation, assignment, release, quarantine), the
 * SIP directory, caller-ID and billing helpers.
 */
import { onClientTerminated } from '../customers/hooks.ts';
import { releaseAllNumbers } from './release-all-numbers.ts';

export { PROVISION_ROLES, INVENTORY_ROLES, STAFF_NUMBER_ROLES, provisioningRefusal, type Actor } from './access.ts';
export { createUsers, type CreateUsersOptions, type NewUser } from './create-users.ts';
export { listUsers, getUser } from './list-users.ts';
export { updateUser, type UpdateUserOptions } from './update-user.ts';
export { deleteUsers, type DeleteUsersOptions } from './delete-users.ts';
export { resetCredentials, type ResetCredentialsOptions } from './reset-credentials.ts';
export { importNumbers, type ImportNumbersOptions, type ImportResult } from './import-numbers.ts';
export { reserveNumber, type ReserveNumberOptions } from './reserve-number.ts';
export { cancelReservation, type CancelReservationOptions } from './cancel-reservation.ts';
export { assignNumber, type AssignNumberOptions } from './assign-number.ts';
export { releaseNumber, type ReleaseNumberOptions } from './release-number.ts';
export { releaseAllNumbers } from './release-all-numbers.ts';
export { listClientNumbers, listInventory } from './list-numbers.ts';
export { runNumberExpiries, type NumberExpiriesResult } from './number-expiries.ts';
export { numbersOfClient, userNumber, mainNumber, type ClientNumber } from './caller-id.ts';
export { findSipCredentials, findUserByExtension, findDidTarget, type SipCredentialsRecord, type DirectoryUser } from './sip-directory.ts';
export { billingQuantities, type BillingQuantities, type InternationalNumberQuantity } from './billing-quantities.ts';
export { countsForMonth, commitmentEnd, pendingReleaseDate } from './number-lifecycle.ts';
export { userFloor, decideUserReduction } from './quarter-floor.ts';
export { provisioningRoutes } from './routes.ts';
export type { UserView, NumberView, SipCredentials, UserWithCredentials } from './views.ts';

// RULES.md "Terms": on termination every assigned number is released to quarantine.
onClientTerminated.push((tx, clientId, at) => releaseAllNumbers(tx, clientId, at).then(() => undefined));
