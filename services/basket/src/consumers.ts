// Basket consumes the catalog's product events (its name/price cache, and the baskets holding the
// product) and OrderPlaced (the basket became an order). Handlers run inside the shared MongoDB inbox:
// each effect is idempotent and the event id is recorded afterwards, so a redelivery is skipped. Product
// events are applied only where the cache or a basket line holds an older product version (stale
// otherwise). OrderPlaced deletes the basket once per order: the order is recorded after the delete, and an
// OrderPlaced of a recorded order (published again under a new id) is stale. The one window left: a crash
// after the delete and before the record repeats the delete on redelivery, which removes a basket the
// shopper refilled under the same id in between.
import type { Logger } from '@qtshop/shared/platform';
import { isStale } from '@qtshop/shared/events';
import type { ConsumedEvent, HandlerResult, Handlers } from '@qtshop/shared/messaging';
import type { Db } from 'mongodb';
import { applyProduct, dropOrderedBasket } from './domain/basket';

export const BASKET_TOPICS = ['qtshop.product', 'qtshop.order'];

export function basketHandlers(log: Logger): Handlers<Db> {
  const product = async (event: ConsumedEvent<'ProductCreated' | 'ProductUpdated'>, db: Db): Promise<HandlerResult> => {
    const { result, baskets } = await applyProduct(db, event.payload);
    log.debug(
      { eventId: event.id, eventType: event.type, productId: event.payload.productId, version: event.payload.version, baskets },
      'product applied to cache and baskets',
    );
    return result;
  };
  return {
    ProductCreated: product,
    ProductUpdated: product,
    OrderPlaced: async (event, db) => {
      const done = await dropOrderedBasket(db, event.payload);
      if (isStale(done)) return done;
      if (!done.deleted) log.info({ eventId: event.id, eventType: event.type, basketId: event.payload.basketId }, 'ordered basket was already gone');
    },
  };
}
