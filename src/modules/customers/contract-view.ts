import { Type, type Static } from 'typebox';
import type { DbOrTx } from '../../db/client.ts';
import { linesOf, type ContractRow } from './contract-store.ts';

const DateString = Type.String({ format: 'date' });
const NullableDate = Type.Union([DateString, Type.Null()]);

export const ContractLineSchema = Type.Object({
  product: Type.String(),
  quantity: Type.Integer(),
  priceCents: Type.Union([Type.Integer(), Type.Null()]),
});

export const ContractViewSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  clientId: Type.String({ format: 'uuid' }),
  state: Type.String(),
  minimumMonths: Type.Integer(),
  enabled: Type.Array(Type.String()),
  signedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  serviceStartDate: NullableDate,
  minimumTermEnd: NullableDate,
  endDate: NullableDate,
  terminationClause: Type.Union([Type.String(), Type.Null()]),
  terminationGround: Type.Union([Type.String(), Type.Null()]),
  lines: Type.Array(ContractLineSchema),
});
export type ContractView = Static<typeof ContractViewSchema>;

export async function toContractView(db: DbOrTx, c: ContractRow): Promise<ContractView> {
  const lines = await linesOf(db, c.id);
  return {
    id: c.id,
    clientId: c.clientId,
    state: c.state,
    minimumMonths: c.minimumMonths,
    enabled: [...c.enabled],
    signedAt: c.signedAt?.toISOString() ?? null,
    serviceStartDate: c.serviceStartDate,
    minimumTermEnd: c.minimumTermEnd,
    endDate: c.endDate,
    terminationClause: c.terminationClause,
    terminationGround: c.terminationGround,
    lines: lines.map((l) => ({ product: l.productCode, quantity: l.quantity, priceCents: l.priceCents })),
  };
}
