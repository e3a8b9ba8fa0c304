// Basket use cases. A basket line's name and price come from the product cache (the catalog's events as
// this service last saw them), never from the client; the client chooses products and quantities.
//
// No transactions: each write is one idempotent MongoDB operation. The one race that needs care is a
// PUT against a ProductUpdated being applied at the same time: the consumer writes the cache, then the
// baskets; the PUT reads the cache, then writes the basket. Reading the cache before the consumer's cache
// write but writing the basket after the consumer's basket update would keep the old price. So after
// writing, the PUT reads the cache again and re-applies any product whose name or price moved (the same
// set-to-value update the consumer uses), until a read matches what the basket holds (at most
// RECONCILE_ROUNDS reads; each extra one needs yet another update of the same product). Whatever the
// interleaving, either that read sees the consumer's cache write or the consumer's basket update comes
// after the PUT's write and fixes the basket.
import { z } from 'zod';
import { AppError } from '@qtshop/shared';
import type { Db } from 'mongodb';
import * as store from '../store';

export interface BasketLine {
  productId: string;
  name: string;
  /** Unit price in minor units, from the product cache. */
  price: number;
  quantity: number;
}

export interface Basket {
  basketId: string;
  items: BasketLine[];
  /** Sum of price × quantity, minor units. */
  total: number;
  updatedAt: string;
}

/** The product cache: what ProductCreated/ProductUpdated last said about a product. */
export interface CachedProduct {
  productId: string;
  name: string;
  description: string;
  type: string;
  brand: string;
  pictureUrl: string;
  price: number;
}

/** Basket ids are chosen by the client (e.g. a UUID per shopper session): 1–100 of A–Z a–z 0–9 _ -. */
export const BASKET_ID = /^[A-Za-z0-9_-]{1,100}$/;
export const BasketId = z.string().regex(BASKET_ID, 'must be 1-100 characters of A-Z, a-z, 0-9, _ and -');

/** Most items of one product in one line. */
export const MAX_QUANTITY = 10_000;

/**
 * PUT body: {items: [{productId, quantity}]}. Unknown fields (name, price, ...) are rejected; so is a
 * second line for the same product (one line per product: merging would hide a client bug, and the
 * client states the whole basket anyway). An empty list is a valid, empty basket.
 */
export function basketInput(maxLines: number) {
  const Line = z.strictObject({
    productId: z.string().min(1).max(200),
    quantity: z.number().int().min(1).max(MAX_QUANTITY),
  });
  return z.strictObject({
    items: z
      .array(Line)
      .max(maxLines, `a basket holds at most ${maxLines} lines`)
      .superRefine((lines, ctx) => {
        const seen = new Set<string>();
        lines.forEach((l, i) => {
          if (seen.has(l.productId)) ctx.addIssue({ code: 'custom', path: [i, 'productId'], message: `duplicate line for product ${l.productId}; one line per product` });
          seen.add(l.productId);
        });
      }),
  });
}
export type BasketInput = z.infer<ReturnType<typeof basketInput>>;

export interface Ctx {
  db: Db;
  now?: () => Date;
}

export async function getBasket(db: Db, basketId: string): Promise<Basket> {
  const basket = await store.findBasket(db, basketId);
  if (!basket) throw AppError.notFound(`basket ${basketId}`);
  return basket;
}

/** Rounds of re-reading the cache after a PUT (each one needs a product update landing in between). */
const RECONCILE_ROUNDS = 5;

/** Replaces the basket's lines, pricing them from the product cache; 404 naming any unknown product. */
export async function replaceBasket(ctx: Ctx, basketId: string, input: BasketInput): Promise<{ basket: Basket; created: boolean }> {
  const ids = input.items.map((l) => l.productId);
  const known = await store.findProducts(ctx.db, ids);
  const unknown = input.items.flatMap((l, i) => (known.has(l.productId) ? [] : [{ index: i, productId: l.productId }]));
  if (unknown.length > 0) {
    const fields = unknown.map((u) => ({ path: `items.${u.index}.productId`, message: `unknown product ${u.productId}` }));
    throw new AppError(404, 'not_found', `product${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => u.productId).join(', ')} not found`, fields);
  }
  const lines = input.items.map((l): BasketLine => {
    const p = known.get(l.productId)!;
    return { productId: l.productId, name: p.name, price: p.price, quantity: l.quantity };
  });
  const { basket, created } = await store.replaceBasket(ctx.db, basketId, lines, (ctx.now ?? (() => new Date()))());

  const holds = new Map(lines.map((l) => [l.productId, { name: l.name, price: l.price }]));
  let moved = false;
  for (let round = 0; round < RECONCILE_ROUNDS; round += 1) {
    const latest = await store.findProducts(ctx.db, ids);
    const changed = [...latest.values()].filter((p) => holds.get(p.productId)?.name !== p.name || holds.get(p.productId)?.price !== p.price);
    if (changed.length === 0) break;
    moved = true;
    for (const p of changed) {
      await store.setProductInBaskets(ctx.db, p, basketId);
      holds.set(p.productId, { name: p.name, price: p.price });
    }
  }
  if (!moved) return { basket, created };
  // A product changed while we wrote: answer with what the basket now holds (an OrderPlaced may even have deleted it).
  return { basket: (await store.findBasket(ctx.db, basketId)) ?? basket, created };
}

/** Deleting a basket that does not exist is fine (DELETE is idempotent). */
export async function deleteBasket(db: Db, basketId: string): Promise<void> {
  await store.deleteBasket(db, basketId);
}

/** ProductCreated: remember the product's name and price (no basket can hold a product not yet seen). */
export async function cacheProduct(db: Db, product: CachedProduct, now = new Date()): Promise<void> {
  await store.upsertProduct(db, product, now);
}

/**
 * ProductUpdated: update the cache, then every basket holding the product, in that order (see the race
 * note at the top). Both writes set values, so a redelivery, or a crash between them followed by a
 * redelivery, ends in the same state. Ordering: the catalog's events are keyed by product id, so all
 * events of one product are on one partition and reach this handler in the order the catalog committed
 * them; a redelivery replays from the last committed offset in that same order, so set-to-value never
 * leaves an older event's values behind a newer one's (and the inbox skips ids already processed).
 * Not covered, because the payload carries no version to compare against: re-injecting an old event by
 * hand (a DLQ redrive of a stale ProductUpdated after newer ones), and a zombie consumer (one that lost
 * its partition but still finishes an old event after the new owner applied a newer one).
 */
export async function applyProductUpdate(db: Db, product: CachedProduct, now = new Date()): Promise<number> {
  await store.upsertProduct(db, product, now);
  return store.setProductInBaskets(db, product);
}

/** OrderPlaced: the basket became an order; deleting an absent basket is a no-op. */
export async function dropOrderedBasket(db: Db, basketId: string): Promise<boolean> {
  return store.deleteBasket(db, basketId);
}
