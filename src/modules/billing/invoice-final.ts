/**
 * RULES.md "Every termination": at the instant service stops, a final invoice is issued
 * at once with every item not yet invoiced — registered into customers'
 * `onClientTerminated`, in the terminating transaction. For now: out-of-pack traffic
 * (§8.3) and pending items (late interest §5.2, reminder fees §8.8). Still to come with
 * their modules: the §11.2/§13.2 termination fee, defect credits (§10.4). No lines → no invoice.
 */
import type { Tx } from '../../db/client.ts';
import { contractStatusOf } from '../customers/contract-status.ts';
import { collectPendingItems } from './hooks.ts';
import { issueInvoice } from './issue-invoice.ts';
import { collectTraffic, markTrafficInvoiced } from './traffic-lines.ts';

export async function invoiceFinal(tx: Tx, clientId: string, at: Date): Promise<string | null> {
  const status = await contractStatusOf(tx, clientId);
  const traffic = await collectTraffic(tx, clientId, at);
  const pending = await collectPendingItems(tx, clientId, at);
  const id = await issueInvoice(tx, { clientId, runKey: `final:${status.contractId ?? ''}`, at, lines: [...traffic.lines, ...pending.lines], clause: '13.1' });
  if (id !== null) {
    await markTrafficInvoiced(tx, traffic, id);
    await pending.markBilled(tx, id);
  }
  return id;
}
