/**
 * Hooks other modules register into, so that customers never imports them:
 *
 * - `onClientTerminated`: called inside the transaction that terminates a client's
 *   contract (service stops, §13.1), with the instant service stops. Provisioning
 *   registers its number release (every assigned number → quarantine, `number_released`),
 *   billing its final invoice. Register at module load:
 *   `onClientTerminated.push((tx, clientId, at) => releaseAllNumbers(tx, clientId, at))`.
 * - `onInstallationComplete`: called inside the transaction recording an installation
 *   (§8.1: one-offs invoiced at installation), with the service start instant.
 */
import type { Tx } from '../../db/client.ts';

export type ClientHook = (tx: Tx, clientId: string, at: Date) => Promise<void>;

export const onClientTerminated: ClientHook[] = [];
export const onInstallationComplete: ClientHook[] = [];

export async function runHooks(hooks: readonly ClientHook[], tx: Tx, clientId: string, at: Date): Promise<void> {
  for (const hook of hooks) await hook(tx, clientId, at);
}
