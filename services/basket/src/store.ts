// Basket data access (MongoDB). There are no transactions here (mongo-java-server has none, and the code
// must run unchanged on a real MongoDB 7): every write is a single-document operation or one updateMany,
// each of them idempotent (set-to-value, replace, delete) or conditional on what it was decided from.
//
// Collections: baskets {_id: basketId, items: [{productId, name, price, quantity, productVersion, revision}],
// revision, deleted?, updatedAt}; products {_id: productId, name, description, type, brand, pictureUrl,
// price, version, updatedAt}, the cache of the catalog's ProductCreated/ProductUpdated; ordered_baskets, the
// orders whose basket was dealt with; processed_events belongs to the shared MongoDB inbox.
//
// Versions (docs/concepts.md "Events and versions"): the cache holds the product version its fields came from, and
// each basket line the product version its name and price came from. Writes of product data are
// conditional on the held version being older (one filter per document, or per array element with a
// filtered positional update), so no interleaving of events, redeliveries, redrives or a consumer finishing
// late can move a document or a line back. Documents written before versions existed have none: the
// filter `olderThan(v)` ({$not: {$gte: v}}) matches a missing field too, as version 0.
//
// Revisions (domain/basket.ts, domain/ordered.ts): a basket's revision grows by one with every change of
// its lines, and every such write is conditional on the revision it was decided from (`atRevision`), so
// a PUT and the removal of an order's lines never overwrite each other: the one that lost re-reads and
// decides again. Product updates leave the revision alone. A deleted basket stays as an empty document
// marked deleted (the API answers 404 for it), keeping its revision; baskets and lines from before
// revisions have none (0).
import type { Db } from 'mongodb';
import { stale, type Stale } from '@qtshop/shared/events';
import { ensureMongoInboxIndexes } from '@qtshop/shared/messaging';
import type { Basket, BasketLine, CachedProduct, RevisedLine, StoredBasket } from './model';

export const BASKETS = 'baskets';
export const PRODUCTS = 'products';

interface LineDoc extends BasketLine {
  /** The product version name and price came from (absent on lines written before versions: 0). */
  productVersion?: number;
  /** The basket revision at which the shopper last set the line (absent on lines written before revisions: 0). */
  revision?: number;
}

interface BasketDoc {
  _id: string;
  items: LineDoc[];
  /** Absent on baskets written before revisions (0). */
  revision?: number;
  /** A deleted basket: no lines, answered as absent, its revision kept. */
  deleted?: boolean;
  updatedAt: Date;
}

/** A cached product as stored: keyed by its id. */
interface ProductDoc extends Omit<CachedProduct, 'productId' | 'version'> {
  _id: string;
  /** The product version the fields came from (absent on documents written before versions: 0). */
  version?: number;
  updatedAt: Date;
}

const baskets = (db: Db) => db.collection<BasketDoc>(BASKETS);
const products = (db: Db) => db.collection<ProductDoc>(PRODUCTS);

/** Matches a version field older than `version`, or missing (documents from before versions). */
export const olderThan = (version: number) => ({ $not: { $gte: version } });

/** Matches a basket at `revision` (0: also a basket written before revisions, which has none). */
export const atRevision = (revision: number) => (revision === 0 ? { $not: { $gt: 0 } } : revision);

const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/** Creates the indexes; createIndex with the same name and keys is a no-op, so this runs on every start. */
export async function ensureIndexes(db: Db): Promise<void> {
  // ProductUpdated finds every basket holding a product through it.
  await baskets(db).createIndex({ 'items.productId': 1 }, { name: 'items_productId' });
  // The pruner finds processed event ids past INBOX_RETENTION_MS through it.
  await ensureMongoInboxIndexes(db);
}

const toBasket = (d: BasketDoc): Basket => ({
  basketId: d._id,
  items: d.items.map((i) => ({ productId: i.productId, name: i.name, price: i.price, quantity: i.quantity })),
  total: d.items.reduce((sum, i) => sum + i.price * i.quantity, 0),
  revision: d.revision ?? 0,
  updatedAt: d.updatedAt.toISOString(),
});

/** The basket as the API answers with it; undefined when there is none or it is deleted. */
export async function findBasket(db: Db, basketId: string): Promise<Basket | undefined> {
  const doc = await baskets(db).findOne({ _id: basketId });
  return doc && !doc.deleted ? toBasket(doc) : undefined;
}

/** The basket as stored, deleted or not, with its revision and its lines' (undefined: never written). */
export async function readBasket(db: Db, basketId: string): Promise<StoredBasket | undefined> {
  const d = await baskets(db).findOne({ _id: basketId });
  if (!d) return undefined;
  return {
    basketId,
    revision: d.revision ?? 0,
    deleted: d.deleted === true,
    lines: d.items.map((i) => ({ ...i, productVersion: i.productVersion ?? 0, revision: i.revision ?? 0 })),
  };
}

/**
 * Writes the basket's lines at `revision`, provided it is still at `read` (the revision they were decided
 * from; 0 also for a basket never written, which this creates). False when another write got there first.
 */
export async function writeBasket(
  db: Db,
  basketId: string,
  read: number,
  next: { revision: number; lines: RevisedLine[] },
  now: Date,
): Promise<Basket | false> {
  const doc: BasketDoc = { _id: basketId, items: next.lines, revision: next.revision, updatedAt: now };
  try {
    // The upsert creates a basket never written; where one exists at another revision, its insert fails on _id.
    const res = await baskets(db).replaceOne({ _id: basketId, revision: atRevision(read) }, doc, { upsert: true });
    return res.matchedCount + res.upsertedCount === 1 ? toBasket(doc) : false;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * Deletes the basket: empties it, marks it deleted and moves its revision on; only while it is at `read`
 * when given. False when it was already deleted, absent, or (with `read`) at another revision.
 */
export async function deleteBasket(db: Db, basketId: string, now: Date, read?: number): Promise<boolean> {
  const res = await baskets(db).updateOne(
    { _id: basketId, deleted: { $ne: true }, ...(read === undefined ? {} : { revision: atRevision(read) }) },
    { $set: { items: [], deleted: true, updatedAt: now }, $inc: { revision: 1 } },
  );
  return res.modifiedCount > 0;
}

/** Takes the lines of `productIds` out of the basket and moves its revision on, only while it is at `read`; false otherwise. */
export async function removeLines(db: Db, basketId: string, read: number, productIds: string[], now: Date): Promise<boolean> {
  const res = await baskets(db).updateOne(
    { _id: basketId, deleted: { $ne: true }, revision: atRevision(read) },
    { $pull: { items: { productId: { $in: productIds } } }, $inc: { revision: 1 }, $set: { updatedAt: now } },
  );
  return res.modifiedCount > 0;
}

/** Orders whose basket this service dealt with, by order id: an OrderPlaced seen again under a new id is stale. */
export const ORDERS_DONE = 'ordered_baskets';

export async function orderDone(db: Db, orderId: string): Promise<boolean> {
  return (await db.collection<{ _id: string }>(ORDERS_DONE).findOne({ _id: orderId }, { projection: { _id: 1 } })) !== null;
}

/** Records that the order's lines left its basket (after the write: a crash in between repeats the decision on the basket as it is then). */
export async function recordOrderDone(db: Db, orderId: string, basketId: string, now = new Date()): Promise<void> {
  try {
    await db.collection<{ _id: string; basketId: string; at: Date }>(ORDERS_DONE).insertOne({ _id: orderId, basketId, at: now });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** The cached products among `ids`, by id (absent ids: products this service has not seen). */
export async function findProducts(db: Db, ids: string[]): Promise<Map<string, CachedProduct>> {
  const docs = ids.length
    ? await products(db)
        .find({ _id: { $in: ids } })
        .toArray()
    : [];
  return new Map(
    docs.map((d) => [
      d._id,
      {
        productId: d._id,
        name: d.name,
        description: d.description,
        type: d.type,
        brand: d.brand,
        pictureUrl: d.pictureUrl,
        price: d.price,
        version: d.version ?? 0,
      },
    ]),
  );
}

/**
 * Sets the cached product to the event's values when the cache holds an older version (or none), and
 * reports stale otherwise. One conditional upsert: when a document with this _id exists at this version
 * or newer, the filter misses and the upsert's insert fails on the _id index (E11000). That error is also
 * what a concurrent first insert of the product looks like, so the update is tried once more without
 * upsert (the document exists now) before calling it stale.
 */
export async function upsertProduct(db: Db, p: CachedProduct, now: Date): Promise<'applied' | Stale> {
  const { productId, ...fields } = p;
  const filter = { _id: productId, version: olderThan(p.version) };
  const update = { $set: { ...fields, updatedAt: now } };
  try {
    await products(db).updateOne(filter, update, { upsert: true });
    return 'applied';
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  if ((await products(db).updateOne(filter, update)).matchedCount === 1) return 'applied';
  const held = await products(db).findOne({ _id: productId }, { projection: { version: 1 } });
  return stale(held?.version ?? 0, p.version);
}

/**
 * Sets name, price and product version of the product's lines holding an older version, in every basket
 * (or only in `basketId`): one multi-document update with a filtered positional operator, no
 * read-modify-write; a line at this version or newer is left alone. Returns how many baskets changed.
 */
export async function setProductInBaskets(db: Db, p: Pick<CachedProduct, 'productId' | 'name' | 'price' | 'version'>, basketId?: string): Promise<number> {
  const res = await baskets(db).updateMany(
    { ...(basketId === undefined ? {} : { _id: basketId }), items: { $elemMatch: { productId: p.productId, productVersion: olderThan(p.version) } } },
    { $set: { 'items.$[line].name': p.name, 'items.$[line].price': p.price, 'items.$[line].productVersion': p.version } },
    { arrayFilters: [{ 'line.productId': p.productId, 'line.productVersion': olderThan(p.version) }] },
  );
  return res.modifiedCount;
}
