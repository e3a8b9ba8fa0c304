// Basket use cases. A basket line's name and price come from the product cache (the catalog's events as
// this service last saw them), never from the client; the client chooses products and quantities.
//
// Revisions: a basket's revision is 1 when created and grows by one with every change of its lines, and
// each line keeps the revision at which the shopper last set it (reviseLines). An order names the revision
// it was placed from, so that OrderPlaced takes out only the lines that were in it (ordered.ts). A PUT
// reads the basket, decides the new revision and lines, and writes them only if the basket is still at the
// revision it read (else it reads again), so it never overwrites an order's removal or another PUT
// unseen. A deleted basket keeps its revision (store.ts), so a basket filled again never goes back to 1.
//
// No transactions: each write is one conditional MongoDB operation. The one race that needs care is a
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
import { isNewer, type Stale } from '@qtshop/shared/events';
import type { HandlerResult } from '@qtshop/shared/messaging';
import type { Db } from 'mongodb';
import type { Basket, CachedProduct, PricedLine, RevisedLine, StoredBasket } from '../model';
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

/** A basket changed under a PUT again and again: MAX_WRITE_ATTEMPTS reads each found it changed before the write. */
export class BasketBusy extends Error {
  override name = 'BasketBusy';
  constructor(readonly basketId: string) {
    super(`basket ${basketId} kept changing while it was being written; retry`);
  }
}

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

/**
 * A PUT's revision and lines, given the basket as stored (undefined: never written) and the priced lines.
 * The revision moves on when the lines change (products, quantities or their order) or the basket is new
 * or deleted; a PUT of the same lines keeps it. A line whose product and quantity the basket already held
 * keeps its revision; new and changed lines take the new one. Pure; unit-tested.
 */
export function reviseLines(current: StoredBasket | undefined, lines: PricedLine[]): { revision: number; lines: RevisedLine[]; created: boolean } {
  const live = current && !current.deleted ? current : undefined;
  const held = (live?.lines ?? []).map((l) => [l.productId, l.quantity]);
  const same = live !== undefined && live.revision > 0 && JSON.stringify(held) === JSON.stringify(lines.map((l) => [l.productId, l.quantity]));
  const revision = same ? live.revision : (current?.revision ?? 0) + 1;
  const before = new Map((live?.lines ?? []).map((l) => [l.productId, l]));
  return {
    revision,
    lines: lines.map((l) => {
      const was = before.get(l.productId);
      return { ...l, revision: was && was.quantity === l.quantity ? was.revision : revision };
    }),
    created: live === undefined,
  };
}

/** Reads of the basket a PUT makes before giving up (each one lost to a write landing in between). */
export const MAX_WRITE_ATTEMPTS = 5;
/** Rounds of re-reading the cache after a PUT (each one needs a product update landing in between). */
const RECONCILE_ROUNDS = 5;

/** Writes the priced lines at the basket's next revision: read, decide, write if still at the revision read; again if not. */
async function writeLines(deps: Deps, basketId: string, lines: PricedLine[]): Promise<{ basket: Basket; created: boolean }> {
  const now = (deps.now ?? (() => new Date()))();
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
    const current = await store.readBasket(deps.db, basketId);
    const next = reviseLines(current, lines);
    const basket = await store.writeBasket(deps.db, basketId, current?.revision ?? 0, next, now);
    if (basket) return { basket, created: next.created };
  }
  throw new BasketBusy(basketId);
}

/**
 * Replaces the basket's lines, pricing them from the product cache; UnknownProducts naming any product it
 * does not hold, BasketBusy when the basket changed under every attempt to write it.
 */
export async function replaceBasket(deps: Deps, basketId: string, input: BasketInput): Promise<{ basket: Basket; created: boolean }> {
  const ids = input.items.map((l) => l.productId);
  const priced = priceLines(input.items, await store.findProducts(deps.db, ids));
  if ('unknown' in priced) throw new UnknownProducts(priced.unknown);
  const { lines } = priced;
  const written = await writeLines(deps, basketId, lines);
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
  if (!moved) return written;
  // A product changed while we wrote: answer with what the basket now holds (an OrderPlaced may even have deleted it).
  return { basket: (await store.findBasket(deps.db, basketId)) ?? written.basket, created: written.created };
}

/** Deleting a basket that does not exist is fine (DELETE is idempotent); it keeps its revision for the next PUT. */
export async function deleteBasket(deps: Deps, basketId: string): Promise<void> {
  await store.deleteBasket(deps.db, basketId, (deps.now ?? (() => new Date()))());
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
