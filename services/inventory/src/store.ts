// Inventory data access. Writes take the caller's transaction.
import type { Knex } from '@qtshop/shared/infra';
import type { StockItem } from './model';

interface Row {
  product_id: string;
  name: string;
  quantity: number;
  /** The stock item's version: 1 at creation, +1 per quantity change. */
  version: number;
  /** The catalog product version the name came from. */
  product_version: number;
  updated_at: Date;
}

const toItem = (r: Row): StockItem => ({ productId: r.product_id, name: r.name, quantity: r.quantity, updatedAt: r.updated_at.toISOString() });

/** The product version the row's name came from, with the row locked until the transaction ends; undefined when there is no row. */
export async function lockProductVersion(trx: Knex.Transaction, productId: string): Promise<number | undefined> {
  const row = await trx<Row>('product_inventory').where({ product_id: productId }).forUpdate().first('product_version');
  return row?.product_version;
}

/**
 * Creates the stock item (quantity 0, version 1) for a product first seen. A concurrent insert of the same
 * product fails on the primary key and the consumer runner retries, then finding the row.
 */
export async function insertItem(trx: Knex.Transaction, productId: string, name: string, productVersion: number): Promise<void> {
  await trx('product_inventory').insert({ product_id: productId, name, quantity: 0, version: 1, product_version: productVersion });
}

/** Takes the product's name; not a change of stock, so the stock item's version stays. */
export async function renameItem(trx: Knex.Transaction, productId: string, name: string, productVersion: number): Promise<void> {
  await trx('product_inventory').where({ product_id: productId }).update({ name, product_version: productVersion, updated_at: trx.fn.now() });
}

/** Sets the quantity and increments the stock item's version in the same statement. */
export async function setQuantity(trx: Knex.Transaction, productId: string, quantity: number): Promise<{ item: StockItem; version: number } | undefined> {
  const [row] = await trx<Row>('product_inventory')
    .where({ product_id: productId })
    .update({ quantity, version: trx.raw('version + 1'), updated_at: trx.fn.now() })
    .returning('*');
  return row ? { item: toItem(row as Row), version: (row as Row).version } : undefined;
}

/** The stock of `productIds`, rows locked in product-id order (two reservations never deadlock). */
export async function lockStock(trx: Knex.Transaction, productIds: string[]): Promise<Map<string, number>> {
  const rows: Array<{ product_id: string; quantity: number }> = await trx('product_inventory')
    .whereIn('product_id', [...productIds].sort())
    .orderBy('product_id')
    .forUpdate()
    .select('product_id', 'quantity');
  return new Map(rows.map((r) => [r.product_id, r.quantity]));
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

/**
 * Records that the stock of `orderId` is being decided (version: the decision's), in the caller's
 * transaction; false when it was decided before. A concurrent decision of the same order waits on the key
 * until the other commits, then finds it.
 */
export async function recordDecision(trx: Knex.Transaction, orderId: string, version: number): Promise<boolean> {
  const rows = await trx('stock_decisions').insert({ order_id: orderId, version }).onConflict('order_id').ignore().returning('order_id');
  return rows.length > 0;
}
