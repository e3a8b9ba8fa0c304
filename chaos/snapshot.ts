// Reads what the invariants need, directly from the shop's databases and topics (never through the
// services): the run's outbox rows, the records on Kafka since the scenario began, every consumer's inbox
// rows for those records, and each copy of the run's products, baskets and orders (with inventory's stock
// decisions and adjustment ledger for them).
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { createLogger } from '@qtshop/shared/platform';
import { createDb, createKafka, headerString, loadInfra, mongoClientOptions, type Infra, type Kafka, type Knex } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { readToEnd, topicEnds, type PartitionOffset } from '@qtshop/shared/tooling';
import { BASKET_TOPICS, basketHandlers } from '../services/basket/src/consumers';
import { loadBasketConfig } from '../services/basket/src/config';
import { BASKETS, PRODUCTS } from '../services/basket/src/store';
import { CATALOG_TOPICS, catalogHandlers } from '../services/catalog/src/consumers';
import { INVENTORY_TOPICS, inventoryHandlers } from '../services/inventory/src/consumers';
import { ORDER_COMMAND_TOPICS, orderCommandHandlers } from '../services/order-command/src/consumers';
import { ORDER_QUERY_TOPICS, orderQueryHandlers } from '../services/order-query/src/consumers';
import type { InboxRow, OrderState, OutboxRow, ProductState, RefilledBasket, Snapshot, TopicRecord } from './invariants';

export const SHOP_TOPICS = ['qtshop.product', 'qtshop.inventory', 'qtshop.order'] as const;

const silent = createLogger('chaos', 'silent');
const typesOf = (h: object): string[] => Object.keys(h);

/** Each consumer: its store, the topics it reads and the event types it handles (from its own consumers.ts). */
export const CONSUMERS = {
  catalog: { db: 'catalog', topics: CATALOG_TOPICS, types: typesOf(catalogHandlers(silent)) },
  inventory: { db: 'inventory', topics: INVENTORY_TOPICS, types: typesOf(inventoryHandlers(createOutboxWriter())) },
  basket: { db: 'mongo', topics: BASKET_TOPICS, types: typesOf(basketHandlers(silent)) },
  'order-command': { db: 'orders', topics: ORDER_COMMAND_TOPICS, types: typesOf(orderCommandHandlers(createOutboxWriter())) },
  'order-query': { db: 'order_query', topics: ORDER_QUERY_TOPICS, types: typesOf(orderQueryHandlers()) },
} as const;

/** What a run made, so the checks look at it and nothing else in the shared databases and topics. */
export interface RunScope {
  productIds: string[];
  /**
   * Products whose stock the run set once, then only orders and the restocker's adjustments changed (the
   * conservation check applies to them; the adjustments are read from inventory's ledger).
   */
  initialStock: Record<string, number>;
  /** Orders are found by their basket id, which starts with this. */
  basketPrefix: string;
  /** Baskets the load keeps (never ordered): their lines must follow the catalog. */
  keptBaskets: string[];
  /** Baskets filled again right after their order, and the product of the line added then (which must stay): filled while the load runs. */
  refills: Array<{ basketId: string; productId: string }>;
  /** Orders the shop answered 201 to (filled while the load runs): each must be in order-command's stream. */
  acknowledged: string[];
  /** Where each shop topic ended when the scenario began. */
  startOffsets: Record<string, PartitionOffset[]>;
  expectedQuarantined: string[];
  /** Event ids the scenario published itself (no outbox holds them). */
  injected: string[];
}

export async function startOffsets(kafka: Kafka): Promise<Record<string, PartitionOffset[]>> {
  const out: Record<string, PartitionOffset[]> = {};
  for (const t of SHOP_TOPICS) out[t] = await topicEnds(kafka, t);
  return out;
}

/** Connections to every store; close() ends them. */
export class Stores {
  readonly pg: Record<string, Knex>;
  readonly kafka: Kafka;
  private readonly mongo: MongoClient;
  readonly basket: Db;

  constructor(readonly infra: Infra = loadInfra()) {
    this.pg = Object.fromEntries(['catalog', 'inventory', 'orders', 'order_query'].map((d) => [d, createDb(infra, d, { max: 2 }, 'qtshop-chaos')]));
    this.kafka = createKafka(infra.kafka, 'qtshop-chaos');
    this.mongo = new MongoClient(infra.mongo.url, mongoClientOptions(infra.mongo));
    this.basket = this.mongo.db(loadBasketConfig().BASKET_DB);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.pg).map((db) => db.destroy()));
    await this.mongo.close();
  }
}

async function readRecords(kafka: Kafka, scope: RunScope, keys: Set<string>): Promise<TopicRecord[]> {
  const records: TopicRecord[] = [];
  for (const topic of SHOP_TOPICS) {
    await readToEnd(kafka, topic, `qtshop-chaos-${randomUUID()}`, scope.startOffsets[topic] ?? 'start', async (_p, m) => {
      const key = m.key?.toString('utf8') ?? '';
      if (!keys.has(key)) return;
      records.push({ id: headerString(m.headers, 'id') ?? '', type: headerString(m.headers, 'eventType') ?? '', key, topic });
    });
  }
  return records;
}

async function readOutbox(s: Stores, scope: RunScope, orderIds: string[]): Promise<OutboxRow[]> {
  const keysOf: Record<string, string[]> = { catalog: scope.productIds, inventory: [...scope.productIds, ...orderIds], orders: orderIds };
  const rows: OutboxRow[] = [];
  for (const [database, keys] of Object.entries(keysOf)) {
    const found = await s.pg[database]!('outbox')
      .whereRaw('aggregateid = any(?)', [keys])
      .orWhereRaw('id = any(?::uuid[])', [scope.expectedQuarantined])
      .select<Array<{ id: string; aggregatetype: string; type: string; aggregateid: string; quarantined_at: Date | null }>>(
        'id',
        'aggregatetype',
        'type',
        'aggregateid',
        'quarantined_at',
      );
    for (const r of found)
      rows.push({ id: r.id, database, topic: `qtshop.${r.aggregatetype}`, type: r.type, aggregateId: r.aggregateid, quarantined: r.quarantined_at !== null });
  }
  return rows;
}

async function readInbox(s: Stores, eventIds: string[]): Promise<InboxRow[]> {
  const rows: InboxRow[] = [];
  for (const [consumer, c] of Object.entries(CONSUMERS)) {
    if (c.db === 'mongo') {
      for (let i = 0; i < eventIds.length; i += 1000) {
        const docs = await s.basket
          .collection<{ _id: string; type: string; aggregateId?: string | null; version?: number; outcome?: string; processedAt: Date }>('processed_events')
          .find({ _id: { $in: eventIds.slice(i, i + 1000) } })
          .toArray();
        for (const d of docs)
          rows.push({
            consumer,
            eventId: d._id,
            type: d.type,
            aggregateId: d.aggregateId ?? null,
            version: d.version ?? null,
            outcome: d.outcome ?? null,
            at: d.processedAt.getTime(),
          });
      }
      continue;
    }
    const found = await s.pg[c.db]!('processed_events')
      .whereRaw('event_id = any(?::uuid[])', [eventIds])
      .select<Array<{ event_id: string; event_type: string; aggregate_id: string | null; version: number | null; outcome: string | null; at_us: string }>>(
        'event_id',
        'event_type',
        'aggregate_id',
        'version',
        'outcome',
        s.pg[c.db]!.raw('(extract(epoch from processed_at) * 1000000)::bigint as at_us'), // microseconds: ms would tie
      );
    for (const r of found)
      rows.push({
        consumer,
        eventId: r.event_id,
        type: r.event_type,
        aggregateId: r.aggregate_id,
        version: r.version,
        outcome: r.outcome,
        at: Number(r.at_us) / 1000,
      });
  }
  return rows;
}

async function readProducts(s: Stores, scope: RunScope): Promise<ProductState[]> {
  const ids = scope.productIds;
  const stocked = Object.keys(scope.initialStock);
  const [catalog, inventory, prices, cache, adjustments] = await Promise.all([
    s.pg.catalog!('products').whereRaw('id = any(?::uuid[])', [ids]).select('id', 'price', 'version', 'quantity', 'stock_version'),
    s.pg.inventory!('product_inventory').whereRaw('product_id = any(?::uuid[])', [ids]).select('product_id', 'quantity', 'version', 'product_version'),
    s.pg.orders!('product_prices').whereRaw('product_id = any(?::uuid[])', [ids]).select('product_id', 'price', 'product_version'),
    s.basket
      .collection<{ _id: string; price: number; version?: number }>(PRODUCTS)
      .find({ _id: { $in: ids } })
      .toArray(),
    // The run's products are its own (created by it), so every ledger row of theirs is the run's; kind
    // 'adjustment' leaves out the PUT that set the initial stock (kind 'set'). No clock is compared.
    s.pg.inventory!('stock_adjustments')
      .whereRaw('product_id = any(?::uuid[])', [stocked])
      .where('kind', 'adjustment')
      .groupBy('product_id')
      .select<Array<{ product_id: string; delta: string }>>('product_id', s.pg.inventory!.raw('sum(delta) as delta')),
  ]);
  const adjusted = new Map(adjustments.map((r) => [r.product_id, Number(r.delta)]));
  const inv = new Map(inventory.map((r) => [r.product_id as string, r]));
  const pr = new Map(prices.map((r) => [r.product_id as string, r]));
  const bc = new Map(cache.map((d) => [d._id, d]));
  return catalog.map((c) => {
    const id = c.id as string;
    const i = inv.get(id);
    const p = pr.get(id);
    const b = bc.get(id);
    return {
      productId: id,
      catalog: { price: Number(c.price), version: c.version, quantity: c.quantity, stockVersion: c.stock_version },
      ...(i ? { inventory: { quantity: i.quantity, version: i.version, productVersion: i.product_version } } : {}),
      ...(b ? { basketCache: { price: b.price, version: b.version ?? 0 } } : {}),
      ...(p ? { orderCommand: { price: Number(p.price), productVersion: p.product_version } } : {}),
      ...(scope.initialStock[id] !== undefined ? { initialStock: scope.initialStock[id], adjusted: adjusted.get(id) ?? 0 } : {}),
    };
  });
}

async function readOrders(s: Stores, scope: RunScope): Promise<OrderState[]> {
  const placed = await s.pg.orders!('order_events')
    .where('type', 'OrderPlaced')
    .whereRaw(`data->>'basketId' like ?`, [`${scope.basketPrefix}%`])
    .select<Array<{ order_id: string; data: { items: Array<{ productId: string; quantity: number }> } }>>('order_id', 'data');
  const ids = placed.map((p) => p.order_id);
  const [outcomes, query, decisions, stockDecisions] = await Promise.all([
    s.pg.orders!('order_events')
      .whereRaw('order_id = any(?::uuid[])', [ids])
      .whereIn('type', ['OrderConfirmed', 'OrderRejected', 'OrderCancelled'])
      .orderBy('version')
      .select('order_id', 'type'),
    s.pg.order_query!('orders').whereRaw('order_id = any(?::uuid[])', [ids]).select('order_id', 'status'),
    s.pg.inventory!('outbox')
      .whereRaw('aggregateid = any(?)', [ids])
      .whereIn('type', ['OrderStockReserved', 'OrderStockRejected'])
      .groupBy('aggregateid')
      .select('aggregateid')
      .count<Array<{ aggregateid: string; n: string }>>({ n: '*' }),
    s.pg.inventory!('stock_decisions')
      .whereRaw('order_id = any(?::uuid[])', [ids])
      .select<Array<{ order_id: string; version: number; outcome: string | null }>>('order_id', 'version', 'outcome'),
  ]);
  const status = new Map(query.map((q) => [q.order_id as string, q.status as string]));
  const decided = new Map(decisions.map((d) => [d.aggregateid, Number(d.n)]));
  const decision = new Map(stockDecisions.map((d) => [d.order_id, { version: d.version, outcome: d.outcome }]));
  return placed.map((p) => ({
    orderId: p.order_id,
    lines: p.data.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
    commandOutcomes: outcomes.filter((o) => o.order_id === p.order_id).map((o) => o.type as string),
    ...(status.has(p.order_id) ? { queryStatus: status.get(p.order_id)! } : {}),
    stockDecisions: decided.get(p.order_id) ?? 0,
    ...(decision.has(p.order_id) ? { decision: decision.get(p.order_id)! } : {}),
  }));
}

/** The refilled baskets as stored (a deleted basket stays as a document marked deleted; absent: never written). */
async function readRefilled(s: Stores, scope: RunScope): Promise<RefilledBasket[]> {
  const ids = [...new Set(scope.refills.map((r) => r.basketId))];
  const docs = ids.length
    ? await s.basket
        .collection<{ _id: string; items: Array<{ productId: string }>; deleted?: boolean }>(BASKETS)
        .find({ _id: { $in: ids } })
        .toArray()
    : [];
  return docs.map((d) => ({ basketId: d._id, deleted: d.deleted === true, productIds: d.items.map((i) => i.productId) }));
}

export async function takeSnapshot(s: Stores, scope: RunScope): Promise<Snapshot> {
  const orders = await readOrders(s, scope);
  const orderIds = orders.map((o) => o.orderId);
  const [outbox, records] = await Promise.all([readOutbox(s, scope, orderIds), readRecords(s.kafka, scope, new Set([...scope.productIds, ...orderIds]))]);
  const inbox = await readInbox(s, [...new Set(records.map((r) => r.id))]);
  const [products, baskets, refilledBaskets] = await Promise.all([
    readProducts(s, scope),
    s.basket
      .collection<{ _id: string; items: Array<{ productId: string; price: number; productVersion?: number }> }>(BASKETS)
      .find({ _id: { $in: scope.keptBaskets } })
      .toArray(),
    readRefilled(s, scope),
  ]);
  return {
    outbox,
    records,
    inbox,
    products,
    basketLines: baskets.flatMap((b) =>
      b.items.map((i) => ({ basketId: b._id, productId: i.productId, price: i.price, productVersion: i.productVersion ?? 0 })),
    ),
    orders,
    refills: scope.refills,
    acknowledged: scope.acknowledged,
    refilledBaskets,
    expectedQuarantined: scope.expectedQuarantined,
    injected: scope.injected,
    consumers: Object.fromEntries(Object.entries(CONSUMERS).map(([k, c]) => [k, { topics: [...c.topics], types: [...c.types] }])),
  };
}
