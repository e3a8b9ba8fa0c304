// Basket data access (MongoDB). There are no transactions here (mongo-java-server has none, and the code
// must run unchanged on a real MongoDB 7): every write is a single-document operation or one updateMany,
// each of them idempotent (set-to-value, replace, delete), so a repeated write changes nothing.
//
// Collections: baskets {_id: basketId, items: [{productId, name, price, quantity}], updatedAt};
// products {_id: productId, name, description, type, brand, pictureUrl, price, updatedAt}, the cache of
// the catalog's ProductCreated/ProductUpdated; processed_events belongs to the shared MongoDB inbox.
import type { Db } from 'mongodb';
import type { Basket, BasketLine, CachedProduct } from './domain/basket';

export const BASKETS = 'baskets';
export const PRODUCTS = 'products';

interface BasketDoc {
  _id: string;
  items: BasketLine[];
  updatedAt: Date;
}

interface ProductDoc {
  _id: string;
  name: string;
  description: string;
  type: string;
  brand: string;
  pictureUrl: string;
  price: number;
  updatedAt: Date;
}

const baskets = (db: Db) => db.collection<BasketDoc>(BASKETS);
const products = (db: Db) => db.collection<ProductDoc>(PRODUCTS);

/** Creates the indexes; createIndex with the same name and keys is a no-op, so this runs on every start. */
export async function ensureIndexes(db: Db): Promise<void> {
  // ProductUpdated finds every basket holding a product through it.
  await baskets(db).createIndex({ 'items.productId': 1 }, { name: 'items_productId' });
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
export async function replaceBasket(db: Db, basketId: string, items: BasketLine[], now: Date): Promise<{ basket: Basket; created: boolean }> {
  const doc: BasketDoc = { _id: basketId, items, updatedAt: now };
  const res = await baskets(db).replaceOne({ _id: basketId }, doc, { upsert: true });
  return { basket: toBasket(doc), created: res.upsertedCount > 0 };
}

/** Deletes the basket; false when there was none (deleting twice is fine). */
export async function deleteBasket(db: Db, basketId: string): Promise<boolean> {
  const res = await baskets(db).deleteOne({ _id: basketId });
  return res.deletedCount > 0;
}

/** The cached products among `ids`, by id (absent ids: products this service has not seen). */
export async function findProducts(db: Db, ids: string[]): Promise<Map<string, CachedProduct>> {
  const docs = ids.length ? await products(db).find({ _id: { $in: ids } }).toArray() : [];
  return new Map(
    docs.map((d) => [d._id, { productId: d._id, name: d.name, description: d.description, type: d.type, brand: d.brand, pictureUrl: d.pictureUrl, price: d.price }]),
  );
}

/** Sets the cached product to the event's values (set-to-value: applying it again changes nothing). */
export async function upsertProduct(db: Db, p: CachedProduct, now: Date): Promise<void> {
  const { productId, ...fields } = p;
  await products(db).updateOne({ _id: productId }, { $set: { ...fields, updatedAt: now } }, { upsert: true });
}

/**
 * Sets name and price of the product's lines in every basket holding it (or only in `basketId`): one
 * multi-document update with a filtered positional operator, no read-modify-write. Returns how many
 * baskets changed.
 */
export async function setProductInBaskets(db: Db, p: Pick<CachedProduct, 'productId' | 'name' | 'price'>, basketId?: string): Promise<number> {
  const res = await baskets(db).updateMany(
    { ...(basketId === undefined ? {} : { _id: basketId }), 'items.productId': p.productId },
    { $set: { 'items.$[line].name': p.name, 'items.$[line].price': p.price } },
    { arrayFilters: [{ 'line.productId': p.productId }] },
  );
  return res.modifiedCount;
}
