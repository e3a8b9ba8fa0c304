// The load a scenario runs under, through the shop's HTTP APIs like its users: products created and
// stocked once, then concurrent clients placing orders (each from a basket of its own), one client
// changing prices and one restocking a separate set of products, until the scenario ends.
import { randomInt, randomUUID } from 'node:crypto';
import { loadConfig, waitUntil } from '@qtshop/shared/platform';
import { authSettings, issueToken } from '@qtshop/shared/http';
import { loadCatalogConfig } from '../services/catalog/src/config';
import { PRODUCTS } from '../services/basket/src/store';
import { serviceUrl } from './shop';
import type { RunScope, Stores } from './snapshot';

export interface LoadOptions {
  /** Products orders are placed for; their stock is set once, so it is conserved. */
  products: number;
  /** Products that are restocked during the run (and never ordered). */
  restocked: number;
  stock: number;
  clients: number;
  keptBaskets: number;
  /** Lines per order at most (distinct products; at least 1). */
  lines: number;
}

export interface LoadStats {
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** 409 price_changed: the order named a price order-command had not seen yet (expected under price changes). */
  refused: number;
  /** Network errors, timeouts and 5xx answers (expected while a fault lasts). */
  failed: number;
  ordersPlaced: number;
  priceChanges: number;
  restocks: number;
}

let adminHeader: { authorization: string } | undefined;
const admin = () => (adminHeader ??= { authorization: `Bearer ${loadCatalogConfig().ADMIN_TOKEN}` });
let authConfig: ReturnType<typeof loadConfig<typeof authSettings>> | undefined;
/** The shopper whose basket is `basketId` (a basket's id is its customer's id), with their development token. */
const shopper = async (basketId: string) => ({ authorization: `Bearer ${await issueToken((authConfig ??= loadConfig(authSettings)), basketId)}` });

async function call(stats: LoadStats, method: string, url: string, body: unknown, headers: Record<string, string> = {}) {
  stats.requests++;
  try {
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (res.ok) stats.ok++;
    else if (res.status === 409) stats.refused++;
    else stats.failed++;
    return { status: res.status, json };
  } catch {
    stats.failed++;
    return { status: 0, json: undefined };
  }
}

const productBody = (n: number, price: number) => ({
  name: `Chaos item ${n}`,
  description: 'under load',
  type: 'chaos',
  brand: 'QT-Shop',
  pictureUrl: 'https://img.example/chaos.png',
  price,
});

export const emptyStats = (): LoadStats => ({ requests: 0, ok: 0, refused: 0, failed: 0, ordersPlaced: 0, priceChanges: 0, restocks: 0 });

/** A running load's state: what it created and the prices it set last. */
export interface Load {
  scope: Omit<RunScope, 'startOffsets' | 'expectedQuarantined'>;
  ordered: string[];
  restocked: string[];
  prices: Map<string, number>;
}

/** Creates and stocks the run's products and the kept baskets, and waits until every service has them. */
export async function setUp(stores: Stores, o: LoadOptions, stats: LoadStats): Promise<Load> {
  const run = randomUUID().slice(0, 8);
  const prices = new Map<string, number>();
  const ids: string[] = [];
  for (let i = 0; i < o.products + o.restocked; i++) {
    const price = 1000 + randomInt(1000);
    const r = await call(stats, 'POST', `${serviceUrl('catalog')}/products`, productBody(i, price), admin());
    if (r.status !== 201) throw new Error(`setting up: POST /products answered ${r.status}`);
    ids.push(r.json!.id as string);
    prices.set(r.json!.id as string, price);
  }
  const counted = async (what: string, count: () => Promise<number>) =>
    waitUntil(async () => (await count()) === ids.length, { timeoutMs: 120_000, everyMs: 250, what });
  await counted('inventory to have the run products', async () =>
    Number((await stores.pg.inventory!('product_inventory').whereRaw('product_id = any(?::uuid[])', [ids]).count<{ n: string }[]>({ n: '*' }))[0]!.n),
  );
  const ordered = ids.slice(0, o.products);
  const initialStock: Record<string, number> = {};
  for (const id of ids) {
    const r = await call(stats, 'PUT', `${serviceUrl('inventory')}/inventory/${id}`, { quantity: o.stock }, admin());
    if (r.status !== 200) throw new Error(`setting up: PUT /inventory answered ${r.status}`);
  }
  for (const id of ordered) initialStock[id] = o.stock;
  await counted('order-command to know the run prices', async () =>
    Number((await stores.pg.orders!('product_prices').whereRaw('product_id = any(?::uuid[])', [ids]).count<{ n: string }[]>({ n: '*' }))[0]!.n),
  );
  await counted('the basket cache to hold the run products', () => stores.basket.collection(PRODUCTS).countDocuments({ _id: { $in: ids } as never }));
  const basketPrefix = `chaos-${run}-order-`;
  const keptBaskets = Array.from({ length: o.keptBaskets }, (_, i) => `chaos-${run}-kept-${i}`);
  for (const [i, b] of keptBaskets.entries()) {
    const items = [ids[i % ids.length]!, ids[(i + 1) % ids.length]!].map((productId) => ({ productId, quantity: 1 }));
    const r = await call(stats, 'PUT', `${serviceUrl('basket')}/baskets/${b}`, { items }, await shopper(b));
    if (r.status !== 200 && r.status !== 201) throw new Error(`setting up: PUT /baskets answered ${r.status}`);
  }
  return { scope: { productIds: ids, initialStock, basketPrefix, keptBaskets }, ordered, restocked: ids.slice(o.products), prices };
}

const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!;
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      r();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Runs the clients until `signal` aborts; resolves when every client has finished its request in hand. */
export async function runLoad(load: Load, o: LoadOptions, stats: LoadStats, signal: AbortSignal): Promise<void> {
  let n = 0;
  const orderClient = async (client: number) => {
    while (!signal.aborted) {
      const basketId = `${load.scope.basketPrefix}${client}-${n++}`;
      const products = [...new Set(Array.from({ length: 1 + randomInt(o.lines) }, () => pick(load.ordered)))];
      const lines = products.map((productId) => ({ productId, quantity: 1 + randomInt(3) }));
      const auth = await shopper(basketId);
      await call(stats, 'PUT', `${serviceUrl('basket')}/baskets/${basketId}`, { items: lines }, auth);
      const items = lines.map((l) => ({ ...l, price: load.prices.get(l.productId)! }));
      const r = await call(stats, 'POST', `${serviceUrl('order-command')}/orders`, { basketId, items }, { ...auth, 'idempotency-key': randomUUID() });
      if (r.status === 201) stats.ordersPlaced++;
      // A refused order's shopper gives up: the basket goes (else thousands pile up and every product event rewrites them all).
      else if (r.status === 409) await call(stats, 'DELETE', `${serviceUrl('basket')}/baskets/${basketId}`, undefined, auth);
    }
  };
  const priceClient = async () => {
    while (!signal.aborted) {
      const id = pick(load.scope.productIds);
      const price = load.prices.get(id)! + 1 + randomInt(50);
      const r = await call(stats, 'PUT', `${serviceUrl('catalog')}/products/${id}`, productBody(load.scope.productIds.indexOf(id), price), admin());
      if (r.status === 200) {
        load.prices.set(id, price);
        stats.priceChanges++;
      }
      await pause(300, signal);
    }
  };
  const restockClient = async () => {
    while (!signal.aborted && load.restocked.length) {
      const r = await call(stats, 'PUT', `${serviceUrl('inventory')}/inventory/${pick(load.restocked)}`, { quantity: 50 + randomInt(450) }, admin());
      if (r.status === 200) stats.restocks++;
      await pause(200, signal);
    }
  };
  await Promise.all([...Array.from({ length: o.clients }, (_, i) => orderClient(i)), priceClient(), restockClient()]);
}
