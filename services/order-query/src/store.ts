// Reads of the order read model.
import type { Knex } from '@qtshop/shared';

export interface OrderSummary {
  orderId: string;
  basketId: string | null;
  status: string;
  total: number | null;
  items: unknown;
  reason: string | null;
  placedAt: string | null;
  updatedAt: string;
}

interface Row {
  order_id: string;
  basket_id: string | null;
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
  status: r.status,
  total: r.total === null ? null : Number(r.total),
  items: r.items,
  reason: r.reason,
  placedAt: r.placed_at?.toISOString() ?? null,
  updatedAt: r.updated_at.toISOString(),
});

export async function findOrder(db: Knex, orderId: string): Promise<OrderSummary | undefined> {
  const row = await db<Row>('orders').where({ order_id: orderId }).first();
  return row ? toSummary(row) : undefined;
}

export async function listOrders(db: Knex, q: { status?: string | undefined; limit: number; offset: number }): Promise<{ items: OrderSummary[]; total: number }> {
  const base = () => (q.status ? db<Row>('orders').where({ status: q.status }) : db<Row>('orders'));
  const [rows, count] = await Promise.all([
    base().orderBy([{ column: 'updated_at', order: 'desc' }, { column: 'order_id' }]).limit(q.limit).offset(q.offset),
    base().count<{ count: string }[]>({ count: '*' }),
  ]);
  return { items: rows.map(toSummary), total: Number(count[0]?.count ?? 0) };
}
