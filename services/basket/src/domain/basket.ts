// Basket use cases. A basket line's name and price come from the product cache (the catalog's events as
// this service last saw them), never from the client; the client chooses products and quantities.
//
// No transactions: each write is one idempotent MongoDB operation. The one race that needs care is a
// PUT against a ProductUpdated being applied at the same time: the consumer writes the cache, then the
// baskets; the PUT reads the cache, then writes the basket. Reading the cache before the consumer's cache
// write but writing the basket after the consumer's basket update would keep the old price. So after
// writing, the PUT reads the cache again and re-applies any product whose version moved (the same
// conditional update the consumer uses), until a read matches what the basket holds (at most
// RECONCILE_ROUNDS reads; each extra one needs yet another update of the same product). Whatever the
// interleaving, either that read sees the consumer's cache write or the consumer's basket update comes
// after the PUT's write and fixes the basket.
//
// Versions: the cache and every basket line keep the product version their values came from, and both
// are written only by a newer version (store.ts), so events arriving late, twice, or redriven from the
// dead-letter topic never put an older name or price back.
import { z } from 'zod';
import { isNewer, stale, type Stale } from '@qtshop/shared/events';
import type { HandlerResult } from '@qtshop/shared/messaging';
import type { Db } from 'mongodb';
import type { Basket, CachedProduct, PricedLine } from '../model';
import * as store from '../store';

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
          if (seen.has(l.productId))
            ctx.addIssue({ code: 'custom', path: [i, 'productId'], message: `duplicate line for product ${l.productId}; one line per product` });
          seen.add(l.productId);
        });
      }),
  });
}
export type BasketInput = z.infer<ReturnType<typeof basketInput>>;

/** What the use cases are given: the database and the clock (injectable). */
export interface Deps {
  db: Db;
  now?: () => Date;
}

/** Undefined when there is no such basket. */
export async function getBasket(db: Db, basketId: string): Promise<Basket | undefined> {
  return store.findBasket(db, basketId);
}

/** A line of the client's basket naming a product the cache does not hold: its index in the body, and the product. */
export interface UnknownLine {
  index: number;
  productId: string;
}

/** A basket names products this service has not seen (the catalog never announced them, or not yet). */
export class UnknownProducts extends Error {
  override name = 'UnknownProducts';
  constructor(readonly lines: UnknownLine[]) {
    super(`product${lines.length > 1 ? 's' : ''} ${lines.map((u) => u.productId).join(', ')} not found`);
  }
}

/** The client's lines priced from the product cache, or the lines naming a product it does not hold. Pure; unit-tested. */
export function priceLines(items: BasketInput['items'], cache: ReadonlyMap<string, CachedProduct>): { lines: PricedLine[] } | { unknown: UnknownLine[] } {
  const unknown = items.flatMap((l, index) => (cache.has(l.productId) ? [] : [{ index, productId: l.productId }]));
  if (unknown.length > 0) return { unknown };
  return {
    lines: items.map((l): PricedLine => {
      const p = cache.get(l.productId)!;
      return { productId: l.productId, name: p.name, price: p.price, quantity: l.quantity, productVersion: p.version };
    }),
  };
}

/** The cached products at a newer version than the basket's lines hold (`holds`: product id -> version). Pure; unit-tested. */
export function movedProducts(latest: ReadonlyMap<string, CachedProduct>, holds: ReadonlyMap<string, number>): CachedProduct[] {
  return [...latest.values()].filter((p) => isNewer(p.version, holds.get(p.productId)));
}

/** Rounds of re-reading the cache after a PUT (each one needs a product update landing in between). */
const RECONCILE_ROUNDS = 5;

/** Replaces the basket's lines, pricing them from the product cache; UnknownProducts naming any product it does not hold. */
export async function replaceBasket(deps: Deps, basketId: string, input: BasketInput): Promise<{ basket: Basket; created: boolean }> {
  const ids = input.items.map((l) => l.productId);
  const priced = priceLines(input.items, await store.findProducts(deps.db, ids));
  if ('unknown' in priced) throw new UnknownProducts(priced.unknown);
  const { lines } = priced;
  const { basket, created } = await store.replaceBasket(deps.db, basketId, lines, (deps.now ?? (() => new Date()))());

  const holds = new Map(lines.map((l) => [l.productId, l.productVersion]));
  let moved = false;
  for (let round = 0; round < RECONCILE_ROUNDS; round += 1) {
    const latest = await store.findProducts(deps.db, ids);
    const changed = movedProducts(latest, holds);
    if (changed.length === 0) break;
    moved = true;
    for (const p of changed) {
      await store.setProductInBaskets(deps.db, p, basketId);
      holds.set(p.productId, p.version);
    }
  }
  if (!moved) return { basket, created };
  // A product changed while we wrote: answer with what the basket now holds (an OrderPlaced may even have deleted it).
  return { basket: (await store.findBasket(deps.db, basketId)) ?? basket, created };
}

/** Deleting a basket that does not exist is fine (DELETE is idempotent). */
export async function deleteBasket(db: Db, basketId: string): Promise<void> {
  await store.deleteBasket(db, basketId);
}

/**
 * The basket's rule for a product event, given what applying it changed: stale only when neither the
 * cache nor any basket line held an older version. A cache already at the event's version does not make
 * the event stale by itself: after a crash between the cache write and the basket update, the redelivered
 * event finds the cache done and must still bring the lines. Pure; unit-tested.
 */
export function productOutcome(cache: 'applied' | Stale, basketsChanged: number): HandlerResult {
  return cache !== 'applied' && basketsChanged === 0 ? cache : undefined;
}

/**
 * ProductCreated / ProductUpdated: update the cache, then every basket line holding the product, in that
 * order (see the race note at the top), each only where it holds an older version. Both writes are
 * conditional set-to-value updates, so a redelivery, a crash between them followed by a redelivery, an
 * older event redriven from the dead-letter topic, or a consumer finishing an old event after it lost its
 * partition all end in the newest version's values. Events carry the whole product, so a gap in versions
 * (3, then 5) applies like consecutive ones. ProductCreated takes the same path: no basket holds a product
 * not yet seen, and a late ProductCreated must not undo an update either.
 */
export async function applyProduct(db: Db, product: CachedProduct, now = new Date()): Promise<{ result: HandlerResult; baskets: number }> {
  const cache = await store.upsertProduct(db, product, now);
  const baskets = await store.setProductInBaskets(db, product);
  return { result: productOutcome(cache, baskets), baskets };
}

/**
 * OrderPlaced: the basket became an order; deleting an absent basket is a no-op. Once per order: the same
 * order under another event id (published again, which the inbox cannot recognise) is stale and deletes
 * nothing, so it cannot remove a basket the shopper filled again since.
 */
export async function dropOrderedBasket(db: Db, order: { orderId: string; basketId: string; version: number }): Promise<{ deleted: boolean } | Stale> {
  if (await store.orderDone(db, order.orderId)) return stale(order.version, order.version);
  const deleted = await store.deleteBasket(db, order.basketId);
  await store.recordOrderDone(db, order.orderId, order.basketId);
  return { deleted };
}
