// Inventory consumes the catalog's product events and placed orders.
import type { Handlers, Knex } from '@qtshop/shared';
import { reserveStock } from './domain/reservation';
import { trackProduct } from './domain/stock';

export const INVENTORY_TOPICS = ['qtshop.product', 'qtshop.order'];

export function inventoryHandlers(): Handlers<Knex.Transaction> {
  return {
    ProductCreated: (event, trx) => trackProduct(trx, event.payload.productId, event.payload.name),
    ProductUpdated: (event, trx) => trackProduct(trx, event.payload.productId, event.payload.name),
    OrderPlaced: async (event, trx) => {
      await reserveStock(trx, event.payload, event.traceparent);
    },
  };
}
