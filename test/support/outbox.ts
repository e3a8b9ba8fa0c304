// Outbox helpers for tests: what an outbox row's createdAt header must be (its created_at as
// createdAtHeaderSql prints it); a writer for made-up orders.
import type { Knex } from '@qtshop/shared/infra';
import { createdAtHeaderSql, createOutboxWriter, type OutboxWriter } from '@qtshop/shared/outbox';

export async function createdAtHeaderOf(db: Knex, id: string): Promise<string> {
  const { rows } = (await db.raw(`select ${createdAtHeaderSql('created_at')} as header from outbox where id = ?`, [id])) as { rows: Array<{ header: string }> };
  return rows[0]!.header;
}

/**
 * An outbox writer for made-up orders: their stock decisions (OrderStockReserved/Rejected) are not written,
 * so that no order-command dead-letters a decision for an order it never placed. Their
 * ProductQuantityUpdated are, as for any reservation (the catalog ignores a product it does not have).
 */
export const stockEventsOnly: OutboxWriter = {
  append: (trx, event) => (event.type === 'ProductQuantityUpdated' ? realWriter.append(trx, event) : Promise.resolve('')),
};
const realWriter = createOutboxWriter();
