// Catalog consumes ProductQuantityUpdated from inventory, the owner of stock.
import type { Logger } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import type { Handlers } from '@qtshop/shared/messaging';
import { applyQuantity } from './domain/products';

export const CATALOG_TOPICS = ['qtshop.inventory'];

export function catalogHandlers(log: Logger): Handlers<Knex.Transaction> {
  return {
    ProductQuantityUpdated: async (event, trx) => {
      const result = await applyQuantity(trx, event.payload);
      if (result !== 'unknown_product') return result;
      log.warn({ eventId: event.id, eventType: event.type, productId: event.payload.productId }, 'quantity for a product the catalog does not have; ignored');
    },
  };
}
