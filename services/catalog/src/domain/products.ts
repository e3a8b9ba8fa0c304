// Catalog use cases: a product change and its event commit in one transaction.
import { randomUUID } from 'node:crypto';
import { inTransaction, type Knex } from '@qtshop/shared/infra';
import { byVersion, type EventPayload, type Stale } from '@qtshop/shared/events';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import type { HandlerResult } from '@qtshop/shared/messaging';
import type { Product, ProductFields } from '../model';
import * as store from '../store';

/** The payload of the event a product change emits (ProductCreated or ProductUpdated), at the product's new version. Pure; unit-tested. */
export const productEvent = ({ product: p, version }: store.Versioned): EventPayload<'ProductCreated'> => ({
  productId: p.id,
  name: p.name,
  description: p.description,
  type: p.type,
  brand: p.brand,
  pictureUrl: p.pictureUrl,
  price: p.price,
  version,
});

/** What the use cases are given: the database, its outbox writer and the id source (injectable). */
export interface Deps {
  db: Knex;
  outbox: OutboxWriter;
  newId?: () => string;
}

export async function createProduct(deps: Deps, fields: ProductFields): Promise<Product> {
  return inTransaction(deps.db, async (trx) => {
    const created = await store.insertProduct(trx, (deps.newId ?? randomUUID)(), fields);
    await deps.outbox.append(trx, { type: 'ProductCreated', aggregateId: created.product.id, payload: productEvent(created) });
    return created.product;
  });
}

/** Undefined when there is no such product. */
export async function updateProduct(deps: Deps, id: string, fields: ProductFields): Promise<Product | undefined> {
  return inTransaction(deps.db, async (trx) => {
    const updated = await store.updateProduct(trx, id, fields);
    if (!updated) return undefined;
    await deps.outbox.append(trx, { type: 'ProductUpdated', aggregateId: id, payload: productEvent(updated) });
    return updated.product;
  });
}

/**
 * The catalog's rule for ProductQuantityUpdated: the quantity is inventory's, so it is replaced only by an
 * event of a newer stock version than the one it came from (`held`; undefined for a product the catalog
 * does not have). Pure; unit-tested.
 */
export function quantityUpdate(held: number | undefined, event: Pick<EventPayload<'ProductQuantityUpdated'>, 'version'>): 'apply' | 'unknown_product' | Stale {
  return byVersion(held, event.version, { absent: 'unknown_product', newer: 'apply' } as const);
}

/** Applies ProductQuantityUpdated from inventory (the owner of stock) when it is newer than the quantity held. */
export async function applyQuantity(trx: Knex.Transaction, event: EventPayload<'ProductQuantityUpdated'>): Promise<HandlerResult | 'unknown_product'> {
  // The common case in one statement: the product is there and the event newer. Otherwise the row is locked
  // and quantityUpdate decides: an unknown product, a stale event, or apply (the row changed in between).
  if (await store.setQuantityIfNewer(trx, event.productId, event.quantity, event.version)) return;
  const decision = quantityUpdate(await store.lockStockVersion(trx, event.productId), event);
  if (decision !== 'apply') return decision;
  await store.setQuantity(trx, event.productId, event.quantity, event.version);
}
