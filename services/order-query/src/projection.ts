// The order read model, projected from OrderPlaced, OrderConfirmed and OrderRejected. Each update is
// an upsert that tolerates any arrival order: an outcome that arrives before OrderPlaced creates the
// row with what it knows, and OrderPlaced arriving later fills in the rest without undoing the outcome.
// Redelivery is handled by the inbox (processed_events) in the same transaction.
import type { EventPayload, Knex } from '@qtshop/shared';

export async function projectPlaced(trx: Knex.Transaction, e: EventPayload<'OrderPlaced'>): Promise<void> {
  await trx('orders')
    .insert({ order_id: e.orderId, basket_id: e.basketId, status: 'Pending', total: e.total, items: JSON.stringify(e.items), placed_at: trx.fn.now() })
    .onConflict('order_id')
    .merge({
      basket_id: e.basketId,
      total: e.total,
      items: JSON.stringify(e.items),
      placed_at: trx.raw('coalesce(orders.placed_at, excluded.placed_at)'),
      // A final status that arrived first stays.
      status: trx.raw("case when orders.status in ('Confirmed', 'Rejected') then orders.status else 'Pending' end"),
      updated_at: trx.fn.now(),
    });
}

export async function projectOutcome(trx: Knex.Transaction, orderId: string, status: 'Confirmed' | 'Rejected', reason?: string): Promise<void> {
  await trx('orders')
    .insert({ order_id: orderId, status, reason: reason ?? null })
    .onConflict('order_id')
    .merge({ status, reason: reason ?? null, updated_at: trx.fn.now() });
}
