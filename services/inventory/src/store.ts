// Inventory data access. Writes take the caller's transaction.
import type { Knex } from '@qtshop/shared';
import type { StockItem } from './domain/stock';

interface Row {
  product_id: string;
  name: string;
  quantity: number;
  updated_at: Date;
}

const toItem = (r: Row): StockItem => ({ productId: r.product_id, name: r.name, quantity: r.quantity, updatedAt: r.updated_at.toISOString() });

/** Creates the row with quantity 0, or only renames it when it exists (ProductCreated and ProductUpdated). */
export async function upsertName(trx: Knex.Transaction, productId: string, name: string): Promise<void> {
  await trx('product_inventory')
    .insert({ product_id: productId, name, quantity: 0 })
    .onConflict('product_id')
    .merge({ name, updated_at: trx.fn.now() });
}

export async function setQuantity(trx: Knex.Transaction, productId: string, quantity: number): Promise<StockItem | undefined> {
  const [row] = await trx<Row>('product_inventory').where({ product_id: productId }).update({ quantity, updated_at: trx.fn.now() }).returning('*');
  return row ? toItem(row as Row) : undefined;
}

export async function findItem(db: Knex, productId: string): Promise<StockItem | undefined> {
  const row = await db<Row>('product_inventory').where({ product_id: productId }).first();
  return row ? toItem(row) : undefined;
}

export async function listItems(db: Knex, page: { limit: number; offset: number }): Promise<{ items: StockItem[]; total: number }> {
  const [rows, count] = await Promise.all([
    db<Row>('product_inventory').orderBy('product_id').limit(page.limit).offset(page.offset),
    db('product_inventory').count<{ count: string }[]>({ count: '*' }),
  ]);
  return { items: rows.map(toItem), total: Number(count[0]?.count ?? 0) };
}
