// Inventory data access. Writes take the caller's transaction.
import type { Knex } from '@qtshop/shared/infra';
import type { StockAdjustment, StockItem } from './model';

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

/** A stock item with its version (the ETag of the API). */
export interface VersionedItem {
  item: StockItem;
  version: number;
}
const toVersioned = (r: Row): VersionedItem => ({ item: toItem(r), version: r.version });

/** Sets the quantity and increments the stock item's version in the same statement. */
export async function setQuantity(trx: Knex.Transaction, productId: string, quantity: number): Promise<VersionedItem | undefined> {
  const [row] = await trx<Row>('product_inventory')
    .where({ product_id: productId })
    .update({ quantity, version: trx.raw('version + 1'), updated_at: trx.fn.now() })
    .returning('*');
  return row ? toVersioned(row as Row) : undefined;
}

/** The quantity and version of a stock item, its row locked until the transaction ends (the lock lockStock takes); undefined when there is no row. */
export async function lockItem(trx: Knex.Transaction, productId: string): Promise<{ quantity: number; version: number } | undefined> {
  return trx<Row>('product_inventory').where({ product_id: productId }).forUpdate().first('quantity', 'version');
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
  return (await findVersioned(db, productId))?.item;
}

export async function findVersioned(db: Knex, productId: string): Promise<VersionedItem | undefined> {
  const row = await db<Row>('product_inventory').where({ product_id: productId }).first();
  return row ? toVersioned(row) : undefined;
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
export async function recordDecision(
  trx: Knex.Transaction,
  orderId: string,
  version: number,
  reserved: Array<{ productId: string; quantity: number }>,
): Promise<boolean> {
  const rows = await trx('stock_decisions')
    .insert({ order_id: orderId, version, outcome: 'reserved', reserved: JSON.stringify(reserved) })
    .onConflict('order_id')
    .ignore()
    .returning('order_id');
  return rows.length > 0;
}

/** The decision recorded by recordDecision was a refusal: nothing is reserved. */
export async function markRefused(trx: Knex.Transaction, orderId: string): Promise<void> {
  await trx('stock_decisions').where({ order_id: orderId }).update({ outcome: 'rejected', reserved: null });
}

/** The products the stock decisions of `orderIds` reserved (read without a lock: the release locks its decision). */
export async function reservedProducts(trx: Knex.Transaction, orderIds: string[]): Promise<string[]> {
  const rows: Array<{ product_id: string }> = await trx
    .select(trx.raw("distinct r->>'productId' as product_id"))
    .from(trx.raw("stock_decisions, jsonb_array_elements(coalesce(reserved, '[]'::jsonb)) as r"))
    .whereIn('order_id', orderIds);
  return rows.map((r) => r.product_id);
}

/** The stock decision of `orderId`, its row locked until the transaction ends; undefined when none was taken. */
export async function lockDecision(
  trx: Knex.Transaction,
  orderId: string,
): Promise<{ version: number; outcome: 'reserved' | 'rejected' | 'void' | null; reserved: Array<{ productId: string; quantity: number }> | null } | undefined> {
  return trx('stock_decisions').where({ order_id: orderId }).forUpdate().first('version', 'outcome', 'reserved');
}

/** Records that `orderId` ended before its stock was decided (a later OrderPlaced is then stale); false when a decision exists. */
export async function recordVoidDecision(trx: Knex.Transaction, orderId: string, version: number): Promise<boolean> {
  const rows = await trx('stock_decisions')
    .insert({ order_id: orderId, version, outcome: 'void', released_at: trx.fn.now() })
    .onConflict('order_id')
    .ignore()
    .returning('order_id');
  return rows.length > 0;
}

/** The decision's reservation was given back (or there was none to give). */
export async function markReleased(trx: Knex.Transaction, orderId: string, version: number): Promise<void> {
  await trx('stock_decisions').where({ order_id: orderId }).update({ version, released_at: trx.fn.now() });
}

interface AdjustmentRow {
  id: string;
  product_id: string;
  kind: 'adjustment' | 'set';
  delta: number;
  reason: string;
  quantity_after: number;
  version: number;
  idempotency_key: string | null;
  created_at: Date;
}

const toAdjustment = (r: AdjustmentRow): StockAdjustment => ({
  id: r.id,
  delta: r.delta,
  reason: r.reason,
  quantityAfter: r.quantity_after,
  version: r.version,
  createdAt: r.created_at.toISOString(),
});

/** Records a manual change of stock in the ledger (stock_adjustments), in the change's transaction. */
export async function insertAdjustment(
  trx: Knex.Transaction,
  a: {
    id: string;
    productId: string;
    kind: AdjustmentRow['kind'];
    delta: number;
    reason: string;
    quantityAfter: number;
    version: number;
    idempotencyKey?: string;
  },
): Promise<StockAdjustment> {
  const [row] = await trx<AdjustmentRow>('stock_adjustments')
    .insert({
      id: a.id,
      product_id: a.productId,
      kind: a.kind,
      delta: a.delta,
      reason: a.reason,
      quantity_after: a.quantityAfter,
      version: a.version,
      idempotency_key: a.idempotencyKey ?? null,
    })
    .returning('*');
  return toAdjustment(row as AdjustmentRow);
}

/** The adjustment of `productId` made with this Idempotency-Key, if any. */
export async function findAdjustmentByKey(trx: Knex.Transaction, productId: string, key: string): Promise<StockAdjustment | undefined> {
  const row = await trx<AdjustmentRow>('stock_adjustments').where({ product_id: productId, idempotency_key: key }).first();
  return row ? toAdjustment(row) : undefined;
}
