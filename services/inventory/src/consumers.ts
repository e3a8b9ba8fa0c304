// Inventory consumes the catalog's product events.
import type { Handlers, Knex } from '@qtshop/shared';
import { trackProduct } from './domain/stock';

export const INVENTORY_TOPICS = ['qtshop.product'];

export function inventoryHandlers(): Handlers<Knex.Transaction> {
  return {
    ProductCreated: (event, trx) => trackProduct(trx, event.payload.productId, event.payload.name),
    ProductUpdated: (event, trx) => trackProduct(trx, event.payload.productId, event.payload.name),
  };
}
