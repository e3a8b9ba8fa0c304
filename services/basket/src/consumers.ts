// Basket consumes the catalog's product events (its name/price cache, and the baskets holding the
// product) and OrderPlaced (the basket became an order). Handlers run inside the shared MongoDB inbox:
// each effect is idempotent and the event id is recorded afterwards, so a redelivery is skipped. The one
// window left: a crash after an OrderPlaced deleted the basket and before its id was recorded repeats the
// delete on redelivery, which removes a basket the shopper refilled under the same id in between.
import type { Handlers, Logger } from '@qtshop/shared';
import type { Db } from 'mongodb';
import { applyProductUpdate, cacheProduct, dropOrderedBasket } from './domain/basket';

export const BASKET_TOPICS = ['qtshop.product', 'qtshop.order'];

export function basketHandlers(log: Logger): Handlers<Db> {
  return {
    ProductCreated: (event, db) => cacheProduct(db, event.payload),
    ProductUpdated: async (event, db) => {
      const baskets = await applyProductUpdate(db, event.payload);
      log.debug({ eventId: event.id, eventType: event.type, productId: event.payload.productId, baskets }, 'product updated in baskets');
    },
    OrderPlaced: async (event, db) => {
      const deleted = await dropOrderedBasket(db, event.payload.basketId);
      if (!deleted) log.info({ eventId: event.id, eventType: event.type, basketId: event.payload.basketId }, 'ordered basket was already gone');
    },
  };
}
