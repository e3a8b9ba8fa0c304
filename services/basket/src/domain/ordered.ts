// OrderPlaced: what of the basket became an order leaves it, and nothing else.
//
// An order names the basket revision it was placed from (basketRevision, when the client sent it). The
// event may arrive long after (a paused connector, the relay's repair, a lagging consumer), when the
// shopper has changed the basket since. So the consumer reads the basket and decides (orderedLines):
// - at the order's revision: the basket is what was ordered; it is deleted, as before revisions;
// - past it: only the lines of ordered products that the shopper set at or before that revision leave; a
//   line added or changed since (a later revision) stays, and so does every other product's line;
// - an order without a revision (a client from before revisions, or an event published before them):
//   only the lines whose product and quantity both equal an ordered line's leave. A line the shopper
//   changed since stays; a line set again to the same quantity goes (nothing tells them apart).
// When no line would be left, the basket is deleted instead. A deleted basket, or a revision the basket
// never reached, is left alone.
//
// The write is conditional on the revision read, and itself moves the revision on: a PUT landing in
// between makes it miss, and the decision is made again on the basket as the PUT left it (MAX_ATTEMPTS);
// a PUT that read the basket before the write misses in turn and re-reads. No transactions: the inbox
// records the event after the write, and the order in ordered_baskets after it too (once per order, also
// under another event id). A crash in between repeats the decision on the basket as it is then, where the
// order's lines are gone: it removes nothing more, except, for an order without a revision, a line the
// shopper set again to the same product and quantity in that window.
import { stale, type Stale } from '@qtshop/shared/events';
import type { Db } from 'mongodb';
import type { StoredBasket } from '../model';
import * as store from '../store';

/** What OrderPlaced says of the basket: the ordered lines, and the revision it was placed from (if the client gave it). */
export interface OrderedBasket {
  orderId: string;
  basketId: string;
  version: number;
  items: Array<{ productId: string; quantity: number }>;
  basketRevision?: number | undefined;
}

/** What OrderPlaced does to the basket. */
export type OrderedEffect = { kind: 'none' } | { kind: 'delete' } | { kind: 'remove'; productIds: string[] };

/** The effect of the order on the basket as read (undefined: never written); the rule at the top. Pure; unit-tested. */
export function orderedLines(basket: StoredBasket | undefined, order: Pick<OrderedBasket, 'items' | 'basketRevision'>): OrderedEffect {
  if (!basket || basket.deleted) return { kind: 'none' };
  const r = order.basketRevision;
  if (r !== undefined && basket.revision === r) return { kind: 'delete' };
  if (r !== undefined && basket.revision < r) return { kind: 'none' };
  const ordered = new Map(order.items.map((i) => [i.productId, i.quantity]));
  const leaving = basket.lines.filter((l) => (r === undefined ? ordered.get(l.productId) === l.quantity : ordered.has(l.productId) && l.revision <= r));
  if (leaving.length === 0) return { kind: 'none' };
  if (leaving.length === basket.lines.length) return { kind: 'delete' };
  return { kind: 'remove', productIds: leaving.map((l) => l.productId) };
}

/** Reads of the basket before giving up (each one lost to a PUT landing in between); the consumer then retries the event. */
export const MAX_ATTEMPTS = 5;

/**
 * OrderPlaced: takes the order's lines out of its basket (orderedLines), once per order: the same order
 * under another event id (published again, which the inbox cannot recognise) is stale and changes nothing.
 */
export async function dropOrderedBasket(db: Db, order: OrderedBasket, now = new Date()): Promise<{ effect: OrderedEffect['kind'] } | Stale> {
  if (await store.orderDone(db, order.orderId)) return stale(order.version, order.version);
  const effect = await applyOrdered(db, order, now);
  await store.recordOrderDone(db, order.orderId, order.basketId);
  return { effect };
}

async function applyOrdered(db: Db, order: OrderedBasket, now: Date): Promise<OrderedEffect['kind']> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const basket = await store.readBasket(db, order.basketId);
    const effect = orderedLines(basket, order);
    if (effect.kind === 'none') return 'none';
    const done =
      effect.kind === 'delete'
        ? await store.deleteBasket(db, order.basketId, now, basket!.revision)
        : await store.removeLines(db, order.basketId, basket!.revision, effect.productIds, now);
    if (done) return effect.kind;
  }
  throw new Error(`basket ${order.basketId} kept changing while order ${order.orderId} was taken out of it`);
}
