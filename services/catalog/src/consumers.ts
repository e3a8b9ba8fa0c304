// Catalog consumes ProductQuantityUpdated from inventory, the owner of stock.
import type { Handlers, Knex, Logger } from '@qtshop/shared';
import { applyQuantity } from './domain/products';

export const CATALOG_TOPICS = ['qtshop.inventory'];

export function catalogHandlers(log: Logger): Handlers<Knex.Transaction> {
  return {
    ProductQuantityUpdated: async (event, trx) => {
      const found = await applyQuantity(trx, event.payload.productId, event.payload.quantity);
      if (!found) log.warn({ eventId: event.id, productId: event.payload.productId }, 'quantity for a product the catalog does not have; ignored');
    },
  };
}
