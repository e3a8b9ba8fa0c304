// The order read model's data access: the API's reads, and the projection's writes, which take the
// consumer's transaction.
import type { Knex } from '@qtshop/shared/infra';
import type { EventPayload } from '@qtshop/shared/events';
import type { OrderSummary } from './model';

interface Row {
  order_id: string;
  basket_id: string | null;
  customer_id: string | null;
  status: string;
  total: string | null;
  items: unknown;
  reason: string | null;
  placed_at: Date | null;
  updated_at: Date;
}

const toSummary = (r: Row): OrderSummary => ({
  orderId: r.order_id,
  basketId: r.basket_id,
  customerId: r.customer_id,
  status: r.status as OrderSummary['status'],
  total: r.total === null ? null : Number(r.total),
  items: r.items as OrderSummary['items'],
  reason: r.reason,
  placedAt: r.placed_at?.toISOString() ?? null,
  updatedAt: r.updated_at.toISOString(),
});

export async function findOrder(db: Knex, orderId: string): Promise<OrderSummary | undefined> {
  const row = await db<Row>('orders').where({ order_id: orderId }).first();
  return row ? toSummary(row) : undefined;
}

export async function listOrders(
  db: Knex,
  q: { status?: string | undefined; customerId?: string | undefined; limit: number; offset: number },
): Promise<{ items: OrderSummary[]; total: number }> {
  const base = () => {
    const query = db<Row>('orders');
    if (q.status) query.where({ status: q.status });
    if (q.customerId) query.where({ customer_id: q.customerId });
    return query;
  };
  const [rows, count] = await Promise.all([
    base()
      .orderBy([{ column: 'updated_at', order: 'desc' }, { column: 'order_id' }])
      .limit(q.limit)
      .offset(q.offset),
    base().count<{ count: string }[]>({ count: '*' }),
  ]);
  return { items: rows.map(toSummary), total: Number(count[0]?.count ?? 0) };
}

/** What the projection holds of an order: the version its status came from, and whether OrderPlaced's data is in. */
export interface HeldOrder {
  version: number;
  placed: boolean;
}

/** An order's outcome as the projection records it. */
export interface Outcome {
  orderId: string;
  status: 'Confirmed' | 'Rejected' | 'Cancelled';
  reason: string | undefined;
  version: number;
}

/** The row's version and whether OrderPlaced's data is in, locked until the transaction ends; undefined when there is no row. */
export async function lockOrder(trx: Knex.Transaction, orderId: string): Promise<HeldOrder | undefined> {
  const row = await trx('orders').where({ order_id: orderId }).forUpdate().first('version', 'placed_at');
  return row ? { version: row.version as number, placed: row.placed_at !== null } : undefined;
}

const placedData = (trx: Knex.Transaction, e: EventPayload<'OrderPlaced'>) => ({
  basket_id: e.basketId,
  customer_id: e.customerId ?? null,
  total: e.total,
  items: JSON.stringify(e.items),
  placed_at: trx.fn.now(),
});

/** Inserts the order from OrderPlaced unless a row exists (waiting for a concurrent insert of it to end); false when one did. */
export async function insertPlacedIfAbsent(trx: Knex.Transaction, e: EventPayload<'OrderPlaced'>): Promise<boolean> {
  const rows = await trx('orders')
    .insert({ order_id: e.orderId, ...placedData(trx, e), status: 'Pending', version: e.version })
    .onConflict('order_id')
    .ignore()
    .returning('order_id');
  return rows.length > 0;
}

export async function insertPlaced(trx: Knex.Transaction, e: EventPayload<'OrderPlaced'>): Promise<void> {
  await trx('orders').insert({ order_id: e.orderId, ...placedData(trx, e), status: 'Pending', version: e.version });
}

/** with-status: the order's data, status Pending and the event's version; data-only: the order's data, nothing else. */
export async function updatePlaced(trx: Knex.Transaction, e: EventPayload<'OrderPlaced'>, what: 'with-status' | 'data-only'): Promise<void> {
  const status = what === 'with-status' ? { status: 'Pending', reason: null, version: e.version } : {};
  await trx('orders')
    .where({ order_id: e.orderId })
    .update({ ...placedData(trx, e), ...status, updated_at: trx.fn.now() });
}

const outcomeFields = (o: Outcome) => ({ status: o.status, reason: o.reason ?? null, version: o.version });

export async function insertOutcome(trx: Knex.Transaction, o: Outcome): Promise<void> {
  await trx('orders').insert({ order_id: o.orderId, ...outcomeFields(o) });
}

/** Records the outcome when the row exists with an older version, in one statement; false when no row was changed (none yet, or not older). */
export async function updateOutcomeIfNewer(trx: Knex.Transaction, o: Outcome): Promise<boolean> {
  const rows = await trx('orders')
    .where({ order_id: o.orderId })
    .andWhere('version', '<', o.version)
    .update({ ...outcomeFields(o), updated_at: trx.fn.now() })
    .returning('order_id');
  return rows.length > 0;
}

export async function updateOutcome(trx: Knex.Transaction, o: Outcome): Promise<void> {
  await trx('orders')
    .where({ order_id: o.orderId })
    .update({ ...outcomeFields(o), updated_at: trx.fn.now() });
}
