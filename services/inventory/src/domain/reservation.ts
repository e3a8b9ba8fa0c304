// Inventory's answer to OrderPlaced: reserve every line or none. The rows are locked in product-id
// order (no deadlock between two orders), so two orders racing for the last unit are serialised:
// exactly one gets it, and stock never goes below zero (the check constraint backs this up).
//
// Applied once per order whatever the order of arrival: the consumer's inbox guards against the same event
// id, and the recorded decision (stock_decisions, keyed by order id) against the same order under another
// event id, which is stale. Each reserved line is a change of its stock item (version +1, carried by its
// ProductQuantityUpdated). The decision itself (OrderStockReserved/OrderStockRejected, keyed by order id)
// is taken once per order: version 1; what it reserved is kept with it, for its release (release.ts,
// version 2) when the order is cancelled or rejected later.
import type { Knex } from '@qtshop/shared/infra';
import { stale, type EventPayload, type Stale } from '@qtshop/shared/events';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import * as store from '../store';

/** The stock decision's version when it is taken (its release is version 2, release.ts). */
export const STOCK_DECISION_VERSION = 1;

/** Why the order cannot be reserved (empty: it can), given the stock of its products. Pure. */
export function reservationProblems(wanted: ReadonlyMap<string, number>, stock: ReadonlyMap<string, number>): string[] {
  return [...wanted].flatMap(([id, qty]) => {
    const have = stock.get(id);
    if (have === undefined) return [`unknown product ${id}`];
    return have < qty ? [`insufficient stock for ${id}: requested ${qty}, available ${have}`] : [];
  });
}

/** An order's lines summed per product (the quantity wanted of each), in the order the lines name them. Pure. */
export function wantedOf(lines: ReadonlyArray<{ productId: string; quantity: number }>): Map<string, number> {
  const wanted = new Map<string, number>();
  for (const l of lines) wanted.set(l.productId, (wanted.get(l.productId) ?? 0) + l.quantity);
  return wanted;
}

/** The stock decision: rejected with the reason, or reserved with the quantity each product is left with. */
export type Reservation = { outcome: 'rejected'; reason: string } | { outcome: 'reserved'; left: Array<{ productId: string; quantity: number }> };

/** Reserve every line or none, given the stock of the order's products (absent: unknown). Pure; unit-tested. */
export function decideReservation(wanted: ReadonlyMap<string, number>, stock: ReadonlyMap<string, number>): Reservation {
  const problems = reservationProblems(wanted, stock);
  if (problems.length) return { outcome: 'rejected', reason: problems.join('; ') };
  return { outcome: 'reserved', left: [...wanted].map(([productId, qty]) => ({ productId, quantity: stock.get(productId)! - qty })) };
}

/**
 * OrderPlaced: lock the stock of the order's products, decide, and write the outcome with its events in
 * `trx` (the consumer's). Stale when the order's stock was decided already: an OrderPlaced published again
 * under a new event id (which the inbox cannot recognise) reserves nothing twice.
 */
export async function reserveStock(trx: Knex.Transaction, outbox: OutboxWriter, order: EventPayload<'OrderPlaced'>): Promise<'reserved' | 'rejected' | Stale> {
  const wanted = wantedOf(order.items);
  // Recorded as reserving what the order wants (the common outcome, so no second statement), corrected below if refused.
  const reserving = [...wanted].map(([productId, quantity]) => ({ productId, quantity }));
  if (!(await store.recordDecision(trx, order.orderId, STOCK_DECISION_VERSION, reserving))) return stale(STOCK_DECISION_VERSION, STOCK_DECISION_VERSION);
  const reservation = decideReservation(wanted, await store.lockStock(trx, [...wanted.keys()]));
  const decision = { orderId: order.orderId, version: STOCK_DECISION_VERSION };
  if (reservation.outcome === 'rejected') {
    await store.markRefused(trx, order.orderId);
    await outbox.append(trx, { type: 'OrderStockRejected', aggregateId: order.orderId, payload: { ...decision, reason: reservation.reason } });
    return 'rejected';
  }
  for (const { productId, quantity } of reservation.left) {
    const { version } = (await store.setQuantity(trx, productId, quantity))!; // locked above: the row exists
    await outbox.append(trx, { type: 'ProductQuantityUpdated', aggregateId: productId, payload: { productId, quantity, version } });
  }
  await outbox.append(trx, { type: 'OrderStockReserved', aggregateId: order.orderId, payload: decision });
  return 'reserved';
}
