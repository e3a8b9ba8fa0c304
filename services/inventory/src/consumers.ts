// Inventory consumes the catalog's product events (the name it shows, applied only when newer), placed
// orders (stock reserved once per order, guarded by the inbox) and the end of orders (cancelled or
// rejected: their reservation given back once).
import type { Knex } from '@qtshop/shared/infra';
import { isStale } from '@qtshop/shared/events';
import type { BatchLock, ConsumedEvent, Handlers } from '@qtshop/shared/messaging';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { releaseStock } from './domain/release';
import { reserveStock } from './domain/reservation';
import { trackProduct } from './domain/stock';
import { lockStock, reservedProducts } from './store';

export const INVENTORY_TOPICS = ['qtshop.product', 'qtshop.order'];

export function inventoryHandlers(outbox: OutboxWriter): Handlers<Knex.Transaction> {
  return {
    ProductCreated: (event, trx) => trackProduct(trx, event.payload),
    ProductUpdated: (event, trx) => trackProduct(trx, event.payload),
    OrderPlaced: async (event, trx) => {
      const decided = await reserveStock(trx, outbox, event.payload);
      return isStale(decided) ? decided : undefined;
    },
    // The end of an order: what was reserved for it is given back, once.
    OrderCancelled: async (event, trx) => {
      const released = await releaseStock(trx, outbox, event.payload.orderId);
      return isStale(released) ? released : undefined;
    },
    OrderRejected: async (event, trx) => {
      const released = await releaseStock(trx, outbox, event.payload.orderId);
      return isStale(released) ? released : undefined;
    },
  };
}

/** The stock rows a batch's events will lock: an order's products, what an ended order reserved, a tracked product. */
export async function stockRowsOf(trx: Knex.Transaction, events: ConsumedEvent[]): Promise<string[]> {
  const products = new Set<string>();
  const ended: string[] = [];
  for (const e of events) {
    if (e.type === 'OrderPlaced') for (const l of (e as ConsumedEvent<'OrderPlaced'>).payload.items) products.add(l.productId);
    else if (e.type === 'ProductCreated' || e.type === 'ProductUpdated') products.add((e as ConsumedEvent<'ProductCreated'>).payload.productId);
    else if (e.type === 'OrderCancelled' || e.type === 'OrderRejected') ended.push((e as ConsumedEvent<'OrderCancelled'>).payload.orderId);
  }
  if (ended.length) for (const p of await reservedProducts(trx, ended)) products.add(p);
  return [...products];
}

/**
 * A batch of inventory's events locks every stock row it will change first, in product-id order (lockStock):
 * the handlers then lock rows one order at a time, in the batch's order, which two instances' batches of
 * orders with crossing products would otherwise do in opposite orders and deadlock.
 */
export const lockInventoryBatch: BatchLock<Knex.Transaction> = async (trx, events) => {
  const ids = await stockRowsOf(trx, events);
  if (ids.length) await lockStock(trx, ids);
};
