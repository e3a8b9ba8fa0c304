// Order-command's cache of the catalog's prices (an order line must carry the current price). The price
// is the catalog's: it is replaced only by a product event newer than the one it came from.
import type { Knex } from '@qtshop/shared/infra';
import { byVersion, type EventPayload, type Stale } from '@qtshop/shared/events';
import type { HandlerResult } from '@qtshop/shared/messaging';
import * as store from '../store';
import { OrderRefused } from './refusals';

/**
 * PlaceOrder's check of its lines against the cached prices (product id -> price): every product must be
 * known, then every line must carry its product's current price. The refusal, or undefined when the lines
 * may be ordered. Pure; unit-tested.
 */
export function checkPrices(lines: ReadonlyArray<{ productId: string; price: number }>, prices: ReadonlyMap<string, number>): OrderRefused | undefined {
  const unknown = lines.filter((l) => !prices.has(l.productId)).map((l) => l.productId);
  if (unknown.length) return new OrderRefused('unknown_product', `unknown product(s): ${unknown.join(', ')}`);
  const changed = lines.filter((l) => prices.get(l.productId) !== l.price);
  if (changed.length)
    return new OrderRefused('price_changed', changed.map((l) => `${l.productId}: price is ${prices.get(l.productId)}, not ${l.price}`).join('; '));
  return undefined;
}

/** The rule for ProductCreated/ProductUpdated, given the product version the cached price came from (`held`). Pure; unit-tested. */
export function priceUpdate(held: number | undefined, event: Pick<EventPayload<'ProductCreated'>, 'version'>): 'insert' | 'update' | Stale {
  return byVersion(held, event.version, { absent: 'insert', newer: 'update' } as const);
}

export async function cachePrice(trx: Knex.Transaction, event: EventPayload<'ProductCreated'>): Promise<HandlerResult> {
  const decision = priceUpdate(await store.lockPriceVersion(trx, event.productId), event);
  if (decision === 'insert') await store.insertPrice(trx, event.productId, event.price, event.version);
  else if (decision === 'update') await store.updatePrice(trx, event.productId, event.price, event.version);
  else return decision;
}
