// Catalog data access. Writes take the caller's transaction (they cannot run outside one).
import type { Knex } from '@qtshop/shared/infra';
import type { Product, ProductFields } from './model';

interface ProductRow {
  id: string;
  name: string;
  description: string;
  type: string;
  brand: string;
  picture_url: string;
  price: string | number;
  quantity: number;
  /** The product's version (ProductCreated 1, +1 per update). */
  version: number;
  /** The inventory stock item version `quantity` came from (0: none yet). */
  stock_version: number;
  created_at: Date;
  updated_at: Date;
}

const toProduct = (r: ProductRow): Product => ({
  id: r.id,
  name: r.name,
  description: r.description,
  type: r.type,
  brand: r.brand,
  pictureUrl: r.picture_url,
  price: Number(r.price),
  quantity: r.quantity,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const toRow = (f: ProductFields) => ({
  name: f.name,
  description: f.description,
  type: f.type,
  brand: f.brand,
  picture_url: f.pictureUrl,
  price: f.price,
});

/** A product and its version, for the event its change emits. */
export interface Versioned {
  product: Product;
  version: number;
}

/** Inserts the product at version 1. */
export async function insertProduct(trx: Knex.Transaction, id: string, fields: ProductFields): Promise<Versioned> {
  const [row] = await trx<ProductRow>('products')
    .insert({ id, ...toRow(fields), version: 1 })
    .returning('*');
  return { product: toProduct(row as ProductRow), version: (row as ProductRow).version };
}

/** Updates the product and increments its version in the same statement. */
export async function updateProduct(trx: Knex.Transaction, id: string, fields: ProductFields): Promise<Versioned | undefined> {
  const [row] = await trx<ProductRow>('products')
    .where({ id })
    .update({ ...toRow(fields), version: trx.raw('version + 1'), updated_at: trx.fn.now() })
    .returning('*');
  return row ? { product: toProduct(row as ProductRow), version: (row as ProductRow).version } : undefined;
}

/** The stock version the product's quantity came from, with the row locked until the transaction ends; undefined for an unknown product. */
export async function lockStockVersion(trx: Knex.Transaction, id: string): Promise<number | undefined> {
  const row = await trx<ProductRow>('products').where({ id }).forUpdate().first('stock_version');
  return row?.stock_version;
}

/**
 * Sets the quantity when `stockVersion` is newer than the one the row holds, in one statement (the common
 * case of ProductQuantityUpdated); false when no row was changed: an unknown product, or a stale event.
 */
export async function setQuantityIfNewer(trx: Knex.Transaction, id: string, quantity: number, stockVersion: number): Promise<boolean> {
  const rows = await trx('products')
    .where({ id })
    .andWhere('stock_version', '<', stockVersion)
    .update({ quantity, stock_version: stockVersion, updated_at: trx.fn.now() })
    .returning('id');
  return rows.length > 0;
}

export async function setQuantity(trx: Knex.Transaction, id: string, quantity: number, stockVersion: number): Promise<void> {
  await trx('products').where({ id }).update({ quantity, stock_version: stockVersion, updated_at: trx.fn.now() });
}

export async function findProduct(db: Knex, id: string): Promise<Product | undefined> {
  const row = await db<ProductRow>('products').where({ id }).first();
  return row ? toProduct(row) : undefined;
}

export async function listProducts(db: Knex, page: { limit: number; offset: number }): Promise<{ items: Product[]; total: number }> {
  const [rows, count] = await Promise.all([
    db<ProductRow>('products')
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .limit(page.limit)
      .offset(page.offset),
    db('products').count<{ count: string }[]>({ count: '*' }),
  ]);
  return { items: rows.map(toProduct), total: Number(count[0]?.count ?? 0) };
}
