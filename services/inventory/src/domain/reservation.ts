// Inventory's answer to OrderPlaced: reserve every line or none. The rows are locked in product-id
// order (no deadlock between two orders), so two orders racing for the last unit are serialised:
// exactly one gets it, and stock never goes below zero (the check constraint backs this up).
//
// Applied once per order whatever the order of arrival: the consumer's inbox (the OrderPlaced event id)
// guards it, not a version. Each reserved line is a change of its stock item (version +1, carried by its
// ProductQuantityUpdated). The decision itself (OrderStockReserved/OrderStockRejected, keyed by order id)
// is taken once per order and never changes: version 1.
import { appendToOutbox, type EventPayload, type Knex } from '@qtshop/shared';
import * as store from '../store';

/** The stock decision's version: there is one decision per order, and nothing changes it yet. */
export const STOCK_DECISION_VERSION = 1;

/** Why the order cannot be reserved (empty: it can), given the stock of its products. Pure. */
export function reservationProblems(wanted: Map<string, number>, stock: Map<string, number>): string[] {
  return [...wanted].flatMap(([id, qty]) => {
    const have = stock.get(id);
    if (have === undefined) return [`unknown product ${id}`];
    return have < qty ? [`insufficient stock for ${id}: requested ${qty}, available ${have}`] : [];
  });
}

export async function reserveStock(trx: Knex.Transaction, order: EventPayload<'OrderPlaced'>, traceparent?: string): Promise<'reserved' | 'rejected'> {
  const wanted = new Map<string, number>();
  for (const l of order.items) wanted.set(l.productId, (wanted.get(l.productId) ?? 0) + l.quantity);
  const stock = await store.lockStock(trx, [...wanted.keys()]);
  const problems = reservationProblems(wanted, stock);
  const decision = { orderId: order.orderId, version: STOCK_DECISION_VERSION };
  if (problems.length) {
    await appendToOutbox(trx, { type: 'OrderStockRejected', aggregateId: order.orderId, payload: { ...decision, reason: problems.join('; ') }, traceparent });
    return 'rejected';
  }
  for (const [id, qty] of wanted) {
    const quantity = stock.get(id)! - qty;
    const { version } = (await store.setQuantity(trx, id, quantity))!; // locked above: the row exists
    await appendToOutbox(trx, { type: 'ProductQuantityUpdated', aggregateId: id, payload: { productId: id, quantity, version }, traceparent });
  }
  await appendToOutbox(trx, { type: 'OrderStockReserved', aggregateId: order.orderId, payload: decision, traceparent });
  return 'reserved';
}
