// Inventory use cases: stock changes, their events and their ledger rows commit together.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { inTransaction, type Knex } from '@qtshop/shared/infra';
import { byVersion, type EventPayload, type Stale } from '@qtshop/shared/events';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import type { HandlerResult } from '@qtshop/shared/messaging';
import * as store from '../store';
import { MAX_QUANTITY } from './adjustment';
import { ifMatch } from './precondition';

export const SetQuantity = z.strictObject({ quantity: z.number().int().min(0).max(MAX_QUANTITY) });

/** The ledger's reason for an absolute set, which has none of its own. */
export const SET_REASON = 'set by PUT /inventory/:productId';

export type SetResult = { outcome: 'set'; current: store.VersionedItem } | { outcome: 'not_found' } | { outcome: 'stale'; version: number };

/**
 * Sets the stock of a product (an absolute set), emitting ProductQuantityUpdated and recording the change in
 * the ledger; not_found when inventory has no such product. With `precondition` (an If-Match header), only
 * if the item's version, read under its row lock, matches it: stale otherwise (with the current version),
 * and nothing changes.
 */
export async function setStock(
  deps: { db: Knex; outbox: OutboxWriter; newId?: () => string },
  productId: string,
  quantity: number,
  precondition?: string,
): Promise<SetResult> {
  return inTransaction(deps.db, async (trx): Promise<SetResult> => {
    const held = await store.lockItem(trx, productId);
    if (!held) return { outcome: 'not_found' };
    if (ifMatch(precondition, held.version) === 'stale') return { outcome: 'stale', version: held.version };
    const changed = (await store.setQuantity(trx, productId, quantity))!; // locked above: the row exists
    await deps.outbox.append(trx, {
      type: 'ProductQuantityUpdated',
      aggregateId: productId,
      payload: { productId, quantity, version: changed.version },
    });
    await store.insertAdjustment(trx, {
      id: (deps.newId ?? randomUUID)(),
      productId,
      kind: 'set',
      delta: quantity - held.quantity,
      reason: SET_REASON,
      quantityAfter: quantity,
      version: changed.version,
    });
    return { outcome: 'set', current: changed };
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
