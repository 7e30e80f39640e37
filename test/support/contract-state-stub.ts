/**
 * A stub of `contractStatusOf` for the tests that exercise provisioning without signing
 * contracts: the state of each client comes from `contractStates` ('none' when unset).
 * Use it from a test file with
 *
 *   vi.mock('../../src/modules/customers/contract-status.ts', async (importOriginal) =>
 *     (await import('../support/contract-state-stub.ts')).stubContractStatus(importOriginal));
 *
 * (vi.mock is hoisted per file, so the one line stays in each file; the stub lives here.)
 */
import type * as ContractStatus from '../../src/modules/customers/contract-status.ts';

export const contractStates = new Map<string, ContractStatus.ContractState>();

export async function stubContractStatus(importOriginal: () => Promise<typeof ContractStatus>): Promise<typeof ContractStatus> {
  const original = await importOriginal();
  return {
    ...original,
    contractStatusOf: (_db, clientId) =>
      Promise.resolve({
        state: contractStates.get(clientId) ?? 'none',
        contractId: null,
        signedAt: null,
        serviceStartDate: null,
        minimumTermEnd: null,
        endDate: null,
        enabled: [],
      }),
  };
}
