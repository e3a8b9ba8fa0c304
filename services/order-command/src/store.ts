// Order command data access: the append-only event stream and its pending orders, idempotency keys and
// the price cache. Writes take the caller's transaction.
import type { Knex } from '@qtshop/shared/infra';
import { pgRetention, type RetentionTarget } from '@qtshop/shared/messaging';

/** An event as the stream holds it; the domain's OrderEvent union is one of these. */
export interface StreamEvent {
  type: string;
  data: object;
}

export interface StoredEvent extends StreamEvent {
  version: number;
  occurredAt: string;
}

export class VersionConflict extends Error {}

export async function loadStream(db: Knex, orderId: string): Promise<StoredEvent[]> {
  const rows = await db('order_events').where({ order_id: orderId }).orderBy('version').select('version', 'type', 'data', 'occurred_at');
  return rows.map((r) => ({ version: r.version, type: r.type, data: r.data, occurredAt: (r.occurred_at as Date).toISOString() }));
}

/**
 * Appends after `expectedVersion`; the primary key (order_id, version) turns a concurrent append at the
 * same version into a VersionConflict instead of an interleaved stream.
 */
export async function appendEvents(trx: Knex.Transaction, orderId: string, expectedVersion: number, events: StreamEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await trx('order_events').insert(
      events.map((e, i) => ({ order_id: orderId, version: expectedVersion + 1 + i, type: e.type, data: JSON.stringify(e.data) })),
    );
  } catch (err) {
    if ((err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'order_events_pkey') {
      throw new VersionConflict(`order ${orderId} was appended to concurrently at version ${expectedVersion + 1}`);
    }
    throw err;
  }
}

/** The orders waiting for their stock decision: how many, and the oldest with its age (database clock). */
export interface PendingOrders {
  pending: number;
  /** Seconds since the oldest was placed; 0 when none is pending. */
  oldestPendingS: number;
  oldestOrderId?: string;
}

/**
 * One statement over pending_orders, which a trigger on order_events keeps in the appending transaction
 * (migration 007_pending_orders): it holds only the orders in flight, where the stream holds every order.
 */
export async function pendingOrders(db: Knex): Promise<PendingOrders> {
  const { rows } = await db.raw<{ rows: Array<{ order_id: string; age: number; n: string }> }>(
    'select order_id, extract(epoch from now() - placed_at)::float8 as age, count(*) over () as n from pending_orders order by placed_at limit 1',
  );
  const oldest = rows[0];
  return oldest ? { pending: Number(oldest.n), oldestPendingS: Math.max(0, oldest.age), oldestOrderId: oldest.order_id } : { pending: 0, oldestPendingS: 0 };
}

/**
 * Seconds the `rank`-th oldest pending order (1: the oldest) has waited for its stock decision (database
 * clock); 0 when fewer are pending. Admission's backlog signal (admission.ts): a scan of `rank` entries of
 * pending_orders_placed_at_idx.
 */
export async function pendingAgeAtRank(db: Knex, rank: number): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ age: number }> }>(
    'select extract(epoch from now() - placed_at)::float8 as age from pending_orders order by placed_at offset ? limit 1',
    [rank - 1],
  );
  return rows[0] ? Math.max(0, rows[0].age) : 0;
}

/**
 * Pending orders placed before `olderThanMs` ago, oldest first, at most `limit`: those whose stock decision
 * is overdue. Locked (skipping those another sweeper holds), so two sweeps never reject the same order.
 */
export async function overduePendingOrders(trx: Knex.Transaction, olderThanMs: number, limit: number): Promise<string[]> {
  const rows = await trx('pending_orders')
    .where('placed_at', '<', trx.raw('now() - make_interval(secs => ?::float8 / 1000)', [olderThanMs]))
    .orderBy('placed_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .select<{ order_id: string }[]>('order_id');
  return rows.map((r) => r.order_id);
}

export async function findIdempotencyKey(db: Knex, key: string): Promise<{ orderId: string; requestHash: string } | undefined> {
  const row = await db('idempotency_keys').where({ key }).first('order_id', 'request_hash');
  return row ? { orderId: row.order_id, requestHash: row.request_hash } : undefined;
}

/** Idempotency keys are kept IDEMPOTENCY_KEY_RETENTION_MS from their first request, then pruned (the service's pruner). */
export const idempotencyKeyRetention = (db: Knex, retentionMs: number): RetentionTarget =>
  pgRetention(db, { table: 'idempotency_keys', keyColumn: 'key', timeColumn: 'created_at', retentionMs });

/** False when the key is already taken (a concurrent request with the same key won). */
export async function claimIdempotencyKey(trx: Knex.Transaction, key: string, requestHash: string, orderId: string): Promise<boolean> {
  const rows = await trx('idempotency_keys').insert({ key, request_hash: requestHash, order_id: orderId }).onConflict('key').ignore().returning('key');
  return rows.length === 1;
}

/** The product version the cached price came from, with the row locked until the transaction ends; undefined for a product not seen yet. */
export async function lockPriceVersion(trx: Knex.Transaction, productId: string): Promise<number | undefined> {
  const row = await trx('product_prices').where({ product_id: productId }).forUpdate().first('product_version');
  return row?.product_version as number | undefined;
}

/**
 * Caches the price of a product first seen. A concurrent insert of the same product fails on the primary
 * key and the consumer runner retries, then finding the row.
 */
export async function insertPrice(trx: Knex.Transaction, productId: string, price: number, productVersion: number): Promise<void> {
  await trx('product_prices').insert({ product_id: productId, price, product_version: productVersion });
}

export async function updatePrice(trx: Knex.Transaction, productId: string, price: number, productVersion: number): Promise<void> {
  await trx('product_prices').where({ product_id: productId }).update({ price, product_version: productVersion, updated_at: trx.fn.now() });
}

export async function pricesOf(db: Knex, productIds: string[]): Promise<Map<string, number>> {
  const rows = await db('product_prices').whereIn('product_id', productIds).select('product_id', 'price');
  return new Map(rows.map((r) => [r.product_id as string, Number(r.price)]));
}
