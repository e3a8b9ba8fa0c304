// Catalog data access. Writes take the caller's transaction (they cannot run outside one).
import type { Knex } from '@qtshop/shared';
import type { Product, ProductFields } from './domain/products';

interface ProductRow {
  id: string;
  name: string;
  description: string;
  type: string;
  brand: string;
  picture_url: string;
  price: string | number;
  quantity: number;
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

export async function insertProduct(trx: Knex.Transaction, id: string, fields: ProductFields): Promise<Product> {
  const [row] = await trx<ProductRow>('products').insert({ id, ...toRow(fields) }).returning('*');
  return toProduct(row as ProductRow);
}

export async function updateProduct(trx: Knex.Transaction, id: string, fields: ProductFields): Promise<Product | undefined> {
  const [row] = await trx<ProductRow>('products')
    .where({ id })
    .update({ ...toRow(fields), updated_at: trx.fn.now() })
    .returning('*');
  return row ? toProduct(row as ProductRow) : undefined;
}

export async function setQuantity(trx: Knex.Transaction, id: string, quantity: number): Promise<boolean> {
  const n = await trx('products').where({ id }).update({ quantity, updated_at: trx.fn.now() });
  return n > 0;
}

export async function findProduct(db: Knex, id: string): Promise<Product | undefined> {
  const row = await db<ProductRow>('products').where({ id }).first();
  return row ? toProduct(row) : undefined;
}

export async function listProducts(db: Knex, page: { limit: number; offset: number }): Promise<{ items: Product[]; total: number }> {
  const [rows, count] = await Promise.all([
    db<ProductRow>('products').orderBy([{ column: 'created_at' }, { column: 'id' }]).limit(page.limit).offset(page.offset),
    db('products').count<{ count: string }[]>({ count: '*' }),
  ]);
  return { items: rows.map(toProduct), total: Number(count[0]?.count ?? 0) };
}
