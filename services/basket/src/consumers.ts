// Basket consumes the catalog's product events (its name/price cache, and the baskets holding the
// product) and OrderPlaced (the basket became an order). Handlers run inside the shared MongoDB inbox:
// each effect is idempotent and the event id is recorded afterwards, so a redelivery is skipped. Product
// events are applied only where the cache or a basket line holds an older product version (stale
// otherwise). OrderPlaced takes the order's lines out of its basket, once per order (domain/ordered.ts:
// only what the basket held at the order's revision; a line the shopper added or changed since stays): the
// order is recorded after the write, and an OrderPlaced of a recorded order (published again under a new
// id) is stale. A crash between the write and the record decides again on redelivery, on the basket as it
// is then.
import type { Logger } from '@qtshop/shared/platform';
import { isStale } from '@qtshop/shared/events';
import type { ConsumedEvent, HandlerResult, Handlers } from '@qtshop/shared/messaging';
import type { Db } from 'mongodb';
import { applyProduct } from './domain/basket';
import { dropOrderedBasket } from './domain/ordered';

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
      const { basketId, basketRevision } = event.payload;
      if (done.effect === 'none') log.info({ eventId: event.id, eventType: event.type, basketId, basketRevision }, 'no line of the order left in its basket');
      else log.debug({ eventId: event.id, eventType: event.type, basketId, basketRevision, effect: done.effect }, 'ordered lines taken out of the basket');
    },
  };
}
