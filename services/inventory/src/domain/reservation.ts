// Inventory's answer to OrderPlaced: reserve every line or none. The rows are locked in product-id
// order (no deadlock between two orders), so two orders racing for the last unit are serialised:
// exactly one gets it, and stock never goes below zero (the check constraint backs this up).
import { appendToOutbox, type EventPayload, type Knex } from '@qtshop/shared';

export async function reserveStock(trx: Knex.Transaction, order: EventPayload<'OrderPlaced'>, traceparent?: string): Promise<'reserved' | 'rejected'> {
  const ids = [...new Set(order.items.map((l) => l.productId))].sort();
  const rows: Array<{ product_id: string; quantity: number }> = await trx('product_inventory')
    .whereIn('product_id', ids)
    .orderBy('product_id')
    .forUpdate()
    .select('product_id', 'quantity');
  const stock = new Map(rows.map((r) => [r.product_id, r.quantity]));
  const wanted = new Map<string, number>();
  for (const l of order.items) wanted.set(l.productId, (wanted.get(l.productId) ?? 0) + l.quantity);

  const problems = [...wanted].flatMap(([id, qty]) => {
    const have = stock.get(id);
    if (have === undefined) return [`unknown product ${id}`];
    return have < qty ? [`insufficient stock for ${id}: requested ${qty}, available ${have}`] : [];
  });
  if (problems.length) {
    await appendToOutbox(trx, { type: 'OrderStockRejected', aggregateId: order.orderId, payload: { orderId: order.orderId, reason: problems.join('; ') }, traceparent });
    return 'rejected';
  }
  for (const [id, qty] of wanted) {
    const quantity = stock.get(id)! - qty;
    await trx('product_inventory').where({ product_id: id }).update({ quantity, updated_at: trx.fn.now() });
    await appendToOutbox(trx, { type: 'ProductQuantityUpdated', aggregateId: id, payload: { productId: id, quantity }, traceparent });
  }
  await appendToOutbox(trx, { type: 'OrderStockReserved', aggregateId: order.orderId, payload: { orderId: order.orderId }, traceparent });
  return 'reserved';
}
