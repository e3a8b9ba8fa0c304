// Inventory consumes the catalog's product events (the name it shows, applied only when newer), placed
// orders (stock reserved once per order, guarded by the inbox) and the end of orders (cancelled or
// rejected: their reservation given back once).
import type { Knex } from '@qtshop/shared/infra';
import { isStale } from '@qtshop/shared/events';
import type { Handlers } from '@qtshop/shared/messaging';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { releaseStock } from './domain/release';
import { reserveStock } from './domain/reservation';
import { trackProduct } from './domain/stock';

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
