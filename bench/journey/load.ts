// The journey's load, through the shop's HTTP APIs like its users: products created and stocked once, then
// orders of one line placed by shoppers (POST /orders with a JWT and an Idempotency-Key), in a closed loop
// (N clients, each sending its next order when the last one answered) or an open loop (a fixed rate of
// Poisson arrivals, whatever the answers). Confirmation is read from order-query's database: the run's
// orders are those of its own customers, and an order's confirmation time is its row's updated_at.
import { randomInt, randomUUID } from 'node:crypto';
import { loadConfig, waitUntil } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { authSettings, issueToken } from '@qtshop/shared/http';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { serviceUrl } from '../../chaos/shop';
import { summarize, type LatencySummary } from '../lib/stats';

const STOCK = 1_000_000_000;

export interface Products {
  ids: string[];
  price: number;
}

async function request(method: string, url: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const retryAfterS = Number(res.headers.get('retry-after') ?? Number.NaN);
  return {
    status: res.status,
    json: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined,
    ...(Number.isFinite(retryAfterS) ? { retryAfterS } : {}),
  };
}

/** Creates and stocks `n` products and waits until order-command knows their prices. */
export async function setUpProducts(n: number, ordersDb: Knex): Promise<Products> {
  const admin = { authorization: `Bearer ${loadCatalogConfig().ADMIN_TOKEN}` };
  const price = 1500;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = { name: `Journey item ${i}`, description: 'benchmark', type: 'bench', brand: 'QT-Shop', pictureUrl: 'https://img.example/j.png', price };
    const r = await request('POST', `${serviceUrl('catalog')}/products`, body, admin);
    if (r.status !== 201) throw new Error(`setting up: POST /products answered ${r.status}`);
    ids.push(r.json!.id as string);
  }
  await waitUntil(
    async () => {
      const [row] = await ordersDb('product_prices').whereRaw('product_id = any(?::uuid[])', [ids]).count<{ n: string }[]>({ n: '*' });
      return Number(row!.n) === ids.length;
    },
    { timeoutMs: 120_000, everyMs: 250, what: 'order-command to know the products' },
  );
  for (const id of ids) {
    // Inventory learns the product from ProductCreated; until then its stock cannot be set (404).
    await waitUntil(async () => (await request('PUT', `${serviceUrl('inventory')}/inventory/${id}`, { quantity: STOCK }, admin)).status === 200, {
      timeoutMs: 120_000,
      everyMs: 100,
      what: `inventory to stock ${id}`,
    });
  }
  return { ids, price };
}

/** One order sent: when it was due (open loop) or sent (closed loop), when its answer came, and its id. */
export interface Placed {
  dueAt: number;
  answeredAt: number;
  status: number;
  /** The error code of a refusal (`overloaded`: order admission). */
  code?: string;
  /** Seconds the refusal's Retry-After asked the client to wait. */
  retryAfterS?: number;
  orderId?: string;
}

/** A run's orders and the customers who placed them (order-query finds the run's orders by customer). */
export interface Orders {
  placed: Placed[];
  customers: string[];
}

/** The shoppers of a run: their ids (customer = basket id) and development tokens. */
export async function shoppers(run: string, n: number): Promise<Array<{ id: string; auth: string }>> {
  const cfg = loadConfig(authSettings);
  return Promise.all(Array.from({ length: n }, async (_, i) => ({ id: `${run}-c${i}`, auth: `Bearer ${await issueToken(cfg, `${run}-c${i}`)}` })));
}

async function placeOne(shopper: { id: string; auth: string }, products: Products, dueAt: number): Promise<Placed> {
  const productId = products.ids[randomInt(products.ids.length)]!;
  try {
    const r = await request(
      'POST',
      `${serviceUrl('order-command')}/orders`,
      { basketId: shopper.id, items: [{ productId, price: products.price, quantity: 1 }] },
      { authorization: shopper.auth, 'idempotency-key': randomUUID() },
    );
    const code = (r.json?.error as { code?: string } | undefined)?.code;
    return {
      dueAt,
      answeredAt: Date.now(),
      status: r.status,
      ...(r.status === 201 ? { orderId: r.json!.orderId as string } : {}),
      ...(code ? { code } : {}),
      ...(r.retryAfterS !== undefined ? { retryAfterS: r.retryAfterS } : {}),
    };
  } catch {
    return { dueAt, answeredAt: Date.now(), status: 0 };
  }
}

/**
 * Closed loop: `clients` shoppers, each placing orders one after another for `seconds`; one told to come back
 * (503 with Retry-After: order admission) waits as told, as a shop's client would, before its next order.
 */
export async function closedLoop(run: string, clients: number, seconds: number, products: Products): Promise<Orders> {
  const who = await shoppers(run, clients);
  const placed: Placed[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    who.map(async (s) => {
      while (Date.now() < end) {
        const p = await placeOne(s, products, Date.now());
        placed.push(p);
        const waitS = p.retryAfterS;
        if (waitS !== undefined) await new Promise((r) => setTimeout(r, Math.min(waitS * 1000, Math.max(0, end - Date.now()))));
      }
    }),
  );
  return { placed, customers: who.map((s) => s.id) };
}

/**
 * Open loop: orders due at Poisson arrivals of `rate`/s for `seconds`, each sent when due whatever the
 * others' answers (latency counts from when it was due, so a stalled shop is not hidden by a waiting client).
 */
export async function openLoop(run: string, rate: number, seconds: number, products: Products): Promise<Orders> {
  const who = await shoppers(run, 16);
  const start = Date.now();
  const pending: Array<Promise<Placed>> = [];
  let due = start;
  for (let i = 0; ; i++) {
    due += (-Math.log(1 - Math.random()) / rate) * 1000;
    if (due > start + seconds * 1000) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(placeOne(who[i % who.length]!, products, due));
  }
  return { placed: await Promise.all(pending), customers: who.map((s) => s.id) };
}

export interface Settled {
  /** Orders of the run's customers in order-query, by status. */
  confirmed: number;
  rejected: number;
  pending: number;
  /** When the last order was confirmed or rejected (epoch ms). */
  lastSettledAt: number;
  /** Due → Confirmed/Rejected (ms), per placed order. */
  latencyMs: LatencySummary;
}

/** Waits until every placed order of the run is confirmed or rejected in order-query, then reads when each was. */
export async function waitSettled(queryDb: Knex, { placed, customers }: Orders, timeoutMs: number): Promise<Settled> {
  const ids = placed.flatMap((p) => (p.orderId ? [p.orderId] : []));
  const settledCount = async () => {
    const [row] = await queryDb('orders').whereIn('customer_id', customers).whereIn('status', ['Confirmed', 'Rejected']).count<{ n: string }[]>({ n: '*' });
    return Number(row!.n);
  };
  await waitUntil(async () => (await settledCount()) >= ids.length, {
    timeoutMs,
    everyMs: 200,
    what: `order-query to settle the run's ${ids.length} orders`,
  }).catch(() => undefined);
  const rows = await queryDb('orders')
    .whereIn('customer_id', customers)
    .select<Array<{ order_id: string; status: string; updated_at: Date }>>('order_id', 'status', 'updated_at');
  const byId = new Map(rows.map((r) => [r.order_id, r]));
  const latencies: number[] = [];
  let lastSettledAt = 0;
  let confirmed = 0;
  let rejected = 0;
  for (const p of placed) {
    const row = p.orderId ? byId.get(p.orderId) : undefined;
    if (!row || row.status === 'Pending') continue;
    if (row.status === 'Confirmed') confirmed++;
    else rejected++;
    const at = row.updated_at.getTime();
    lastSettledAt = Math.max(lastSettledAt, at);
    latencies.push(at - p.dueAt);
  }
  return { confirmed, rejected, pending: ids.length - confirmed - rejected, lastSettledAt, latencyMs: summarize(latencies) };
}
