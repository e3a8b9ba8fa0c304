// Inventory use cases: stock changes and their events commit together.
import { z } from 'zod';
import { inTransaction, type Knex } from '@qtshop/shared/infra';
import { byVersion, type EventPayload, type Stale } from '@qtshop/shared/events';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import type { HandlerResult } from '@qtshop/shared/messaging';
import type { StockItem } from '../model';
import * as store from '../store';

export const SetQuantity = z.strictObject({ quantity: z.number().int().min(0).max(1_000_000_000) });

/** Sets the stock of a product, emitting ProductQuantityUpdated; undefined when inventory has no such product. */
export async function setStock(deps: { db: Knex; outbox: OutboxWriter }, productId: string, quantity: number): Promise<StockItem | undefined> {
  return inTransaction(deps.db, async (trx) => {
    const changed = await store.setQuantity(trx, productId, quantity);
    if (!changed) return undefined;
    await deps.outbox.append(trx, {
      type: 'ProductQuantityUpdated',
      aggregateId: productId,
      payload: { productId, quantity, version: changed.version },
    });
    return changed.item;
  });
}

/**
 * Inventory's rule for ProductCreated/ProductUpdated: a product first seen gets a stock row; an existing
 * row takes the name only from a newer product version than the one its name came from (`held`). Pure;
 * unit-tested.
 */
export function productNameUpdate(held: number | undefined, event: Pick<EventPayload<'ProductCreated'>, 'version'>): 'create' | 'rename' | Stale {
  return byVersion(held, event.version, { absent: 'create', newer: 'rename' } as const);
}

/** ProductCreated / ProductUpdated: inventory keeps a row per product (quantity starts at 0) with its latest name. */
export async function trackProduct(trx: Knex.Transaction, event: EventPayload<'ProductCreated'>): Promise<HandlerResult> {
  const decision = productNameUpdate(await store.lockProductVersion(trx, event.productId), event);
  if (decision === 'create') await store.insertItem(trx, event.productId, event.name, event.version);
  else if (decision === 'rename') await store.renameItem(trx, event.productId, event.name, event.version);
  else return decision;
}
