// Basket data access (MongoDB). There are no transactions here (mongo-java-server has none, and the code
// must run unchanged on a real MongoDB 7): every write is a single-document operation or one updateMany,
// each of them idempotent (set-to-value, replace, delete), so a repeated write changes nothing.
//
// Collections: baskets {_id: basketId, items: [{productId, name, price, quantity, productVersion}], updatedAt};
// products {_id: productId, name, description, type, brand, pictureUrl, price, version, updatedAt}, the
// cache of the catalog's ProductCreated/ProductUpdated; processed_events belongs to the shared MongoDB inbox.
//
// Versions (README "Events and versions"): the cache holds the product version its fields came from, and
// each basket line the product version its name and price came from. Writes of product data are
// conditional on the held version being older (one filter per document, or per array element with a
// filtered positional update), so no interleaving of events, redeliveries, redrives or a consumer finishing
// late can move a document or a line back. Documents written before versions existed have none: the
// filter `olderThan(v)` ({$not: {$gte: v}}) matches a missing field too, as version 0.
import type { Db } from 'mongodb';
import { stale, type Stale } from '@qtshop/shared/events';
import { ensureMongoInboxIndexes } from '@qtshop/shared/messaging';
import type { Basket, BasketLine, CachedProduct, PricedLine } from './model';

export const BASKETS = 'baskets';
export const PRODUCTS = 'products';

interface LineDoc extends BasketLine {
  /** The product version name and price came from (absent on lines written before versions: 0). */
  productVersion?: number;
}

interface BasketDoc {
  _id: string;
  items: LineDoc[];
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
  updatedAt: d.updatedAt.toISOString(),
});

export async function findBasket(db: Db, basketId: string): Promise<Basket | undefined> {
  const doc = await baskets(db).findOne({ _id: basketId });
  return doc ? toBasket(doc) : undefined;
}

/** Replaces the basket's items (creating it when absent); `created` says which. */
export async function replaceBasket(db: Db, basketId: string, items: PricedLine[], now: Date): Promise<{ basket: Basket; created: boolean }> {
  const doc: BasketDoc = { _id: basketId, items, updatedAt: now };
  const res = await baskets(db).replaceOne({ _id: basketId }, doc, { upsert: true });
  return { basket: toBasket(doc), created: res.upsertedCount > 0 };
}

/** Deletes the basket; false when there was none (deleting twice is fine). */
export async function deleteBasket(db: Db, basketId: string): Promise<boolean> {
  const res = await baskets(db).deleteOne({ _id: basketId });
  return res.deletedCount > 0;
}

/** Orders whose basket this service deleted, by order id: an OrderPlaced seen again under a new id is stale. */
export const ORDERS_DONE = 'ordered_baskets';

export async function orderDone(db: Db, orderId: string): Promise<boolean> {
  return (await db.collection<{ _id: string }>(ORDERS_DONE).findOne({ _id: orderId }, { projection: { _id: 1 } })) !== null;
}

/** Records that the order's basket is gone (after the delete: a crash in between only repeats the delete). */
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
