// The order read model, projected from OrderPlaced, OrderConfirmed and OrderRejected, in any arrival
// order. Each event carries its version in the order's stream; the row keeps the version its status came
// from, and the status moves only forward: an event not newer than the row is stale. One exception keeps
// out-of-order arrival whole: an outcome that arrives before OrderPlaced creates the row with what it
// knows, and OrderPlaced arriving later (older, yet carrying the order's lines) fills those in without
// undoing the outcome. Redelivery of the same event id is handled by the inbox (processed_events) in the
// same transaction.
import { isNewer, stale, type EventPayload, type HandlerResult, type Knex, type Stale } from '@qtshop/shared';

/** What the projection holds of an order: the version its status came from, and whether OrderPlaced's data is in. */
export interface HeldOrder {
  version: number;
  placed: boolean;
}

/**
 * The rule for OrderPlaced. create: no row yet; apply: newer, so data, status Pending and version; fill:
 * not newer but the order's data is missing (an outcome came first), so the data only. Pure; unit-tested.
 */
export function placedUpdate(held: HeldOrder | undefined, event: Pick<EventPayload<'OrderPlaced'>, 'version'>): 'create' | 'apply' | 'fill' | Stale {
  if (!held) return 'create';
  if (isNewer(event.version, held.version)) return 'apply';
  return held.placed ? stale(held.version, event.version) : 'fill';
}

/** The rule for OrderConfirmed / OrderRejected: the status moves only forward by version. Pure; unit-tested. */
export function outcomeUpdate(held: HeldOrder | undefined, event: Pick<EventPayload<'OrderConfirmed'>, 'version'>): 'create' | 'apply' | Stale {
  if (!held) return 'create';
  return isNewer(event.version, held.version) ? 'apply' : stale(held.version, event.version);
}

/** The row's version and whether OrderPlaced's data is in, locked until the transaction ends; undefined when there is no row. */
async function lockOrder(trx: Knex.Transaction, orderId: string): Promise<HeldOrder | undefined> {
  const row = await trx('orders').where({ order_id: orderId }).forUpdate().first('version', 'placed_at');
  return row ? { version: row.version as number, placed: row.placed_at !== null } : undefined;
}

// A concurrent insert of the same order (a consumer finishing late after a rebalance) fails on the
// primary key; the consumer runner retries and then finds the row.
export async function projectPlaced(trx: Knex.Transaction, e: EventPayload<'OrderPlaced'>): Promise<HandlerResult> {
  const decision = placedUpdate(await lockOrder(trx, e.orderId), e);
  if (typeof decision !== 'string') return decision;
  const data = { basket_id: e.basketId, total: e.total, items: JSON.stringify(e.items), placed_at: trx.fn.now() };
  if (decision === 'create') await trx('orders').insert({ order_id: e.orderId, ...data, status: 'Pending', version: e.version });
  else if (decision === 'apply') await trx('orders').where({ order_id: e.orderId }).update({ ...data, status: 'Pending', reason: null, version: e.version, updated_at: trx.fn.now() });
  else await trx('orders').where({ order_id: e.orderId }).update({ ...data, updated_at: trx.fn.now() });
}

export async function projectOutcome(trx: Knex.Transaction, e: EventPayload<'OrderConfirmed'>, status: 'Confirmed' | 'Rejected'): Promise<HandlerResult> {
  const decision = outcomeUpdate(await lockOrder(trx, e.orderId), e);
  if (typeof decision !== 'string') return decision;
  const fields = { status, reason: e.reason ?? null, version: e.version };
  if (decision === 'create') await trx('orders').insert({ order_id: e.orderId, ...fields });
  else await trx('orders').where({ order_id: e.orderId }).update({ ...fields, updated_at: trx.fn.now() });
}
