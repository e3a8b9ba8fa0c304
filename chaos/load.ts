// The load a scenario runs under, through the shop's HTTP APIs like its users: products created and
// stocked once, then concurrent clients placing orders (each from a basket of its own, naming the basket
// revision it was placed from), some of them cancelled by their shopper and some baskets refilled right
// after ordering; one client changing prices; one restocking a separate set of products and adjusting the
// stock of the ordered ones (relative deltas, with an Idempotency-Key), until the scenario ends.
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
  /**
   * 409 answers: mostly price_changed, an order naming a price order-command had not seen yet (expected under
   * price changes); also order_not_cancellable (a cancel of an order rejected meanwhile) and a basket busy.
   */
  refused: number;
  /** Network errors, timeouts and 5xx answers without Retry-After (expected while a fault lasts). */
  failed: number;
  /**
   * 503 answers with Retry-After: the shop told the client to come back (`overloaded`: order admission
   * refuses new orders while the pipeline's backlog is late; `unavailable`: its database is away). The
   * order clients wait as told before their next order.
   */
  deferred: number;
  ordersPlaced: number;
  priceChanges: number;
  restocks: number;
  /** Orders their shopper cancelled (200 to POST /orders/:id/cancel). */
  cancels: number;
  /** Baskets filled again right after their order with one more line (200/201 to the PUT): each is in the scope's refills. */
  refills: number;
  /** Stock adjustments of ordered products answered 200 (a retry replaying the first counts once). */
  adjustments: number;
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
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const retryAfterS = res.status === 503 ? Number(res.headers.get('retry-after') ?? Number.NaN) : Number.NaN;
    if (res.ok) stats.ok++;
    else if (res.status === 409) stats.refused++;
    else if (Number.isFinite(retryAfterS)) stats.deferred++;
    else stats.failed++;
    return { status: res.status, json, ...(Number.isFinite(retryAfterS) ? { retryAfterS } : {}) };
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

export const emptyStats = (): LoadStats => ({
  requests: 0,
  ok: 0,
  refused: 0,
  failed: 0,
  deferred: 0,
  ordersPlaced: 0,
  priceChanges: 0,
  restocks: 0,
  cancels: 0,
  refills: 0,
  adjustments: 0,
});

/** Shares of placed orders (percent): cancelled by their shopper, and whose basket is refilled right after. */
const CANCEL_PERCENT = 15;
const REFILL_PERCENT = 20;
/** A delayed cancel comes up to this long after the order (the others at once). */
const CANCEL_DELAY_MS = 1000;
/** The restocker's adjustments of the ordered products: +1 to this. */
const MAX_ADJUSTMENT = 20;

/** A running load's state: what it created (the scope's refills grow while it runs) and the prices it set last. */
export interface Load {
  scope: Omit<RunScope, 'startOffsets' | 'expectedQuarantined' | 'injected'>;
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
  return {
    scope: { productIds: ids, initialStock, basketPrefix, keptBaskets, refills: [], acknowledged: [] },
    ordered,
    restocked: ids.slice(o.products),
    prices,
  };
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

/**
 * Runs the clients until `signal` aborts; resolves when every client has finished its request in hand and
 * every cancel it started has been answered.
 */
export async function runLoad(load: Load, o: LoadOptions, stats: LoadStats, signal: AbortSignal): Promise<void> {
  let n = 0;
  const cancelling = new Set<Promise<void>>();
  const basketUrl = (basketId: string) => `${serviceUrl('basket')}/baskets/${basketId}`;
  type Auth = Awaited<ReturnType<typeof shopper>>;

  /** The shopper cancels the order, at once or after a pause (cut short when the load stops); a failed request is tried once more. */
  const cancel = async (orderId: string, auth: Auth, delayMs: number) => {
    if (delayMs > 0) await pause(delayMs, signal);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const r = await call(stats, 'POST', `${serviceUrl('order-command')}/orders/${orderId}/cancel`, undefined, auth);
      if (r.status === 200) {
        stats.cancels++;
        return;
      }
      if (r.status !== 0 && r.status < 500) return; // 409 order_not_cancellable: rejected meanwhile
      await pause(200, signal);
    }
  };
  const startCancel = (orderId: string, auth: Auth) => {
    const p = cancel(orderId, auth, randomInt(2) === 0 ? 0 : 1 + randomInt(CANCEL_DELAY_MS));
    cancelling.add(p);
    void p.finally(() => cancelling.delete(p));
  };

  /**
   * Right after ordering, the shopper puts the ordered lines back in the basket with one more product's line:
   * whenever the OrderPlaced reaches the basket, that line must stay. Remembered (load.scope.refills) once a
   * PUT answered; a busy basket (409) or a failed request is tried again, at most three times in all.
   */
  const refill = async (basketId: string, lines: Array<{ productId: string; quantity: number }>, auth: Auth) => {
    const others = load.scope.productIds.filter((id) => !lines.some((l) => l.productId === id));
    if (others.length === 0) return;
    const productId = pick(others);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const r = await call(stats, 'PUT', basketUrl(basketId), { items: [...lines, { productId, quantity: 1 }] }, auth);
      if (r.status === 200 || r.status === 201) {
        stats.refills++;
        load.scope.refills.push({ basketId, productId });
        return;
      }
      if (r.status !== 0 && r.status !== 409 && r.status < 500) return;
      await pause(100, signal);
    }
  };

  const orderClient = async (client: number) => {
    while (!signal.aborted) {
      const basketId = `${load.scope.basketPrefix}${client}-${n++}`;
      const products = [...new Set(Array.from({ length: 1 + randomInt(o.lines) }, () => pick(load.ordered)))];
      const lines = products.map((productId) => ({ productId, quantity: 1 + randomInt(3) }));
      const auth = await shopper(basketId);
      const put = await call(stats, 'PUT', basketUrl(basketId), { items: lines }, auth);
      // The revision the PUT answered (absent when it failed: the order then names none).
      const basketRevision = typeof put.json?.revision === 'number' && put.json.revision > 0 ? put.json.revision : undefined;
      const items = lines.map((l) => ({ ...l, price: load.prices.get(l.productId)! }));
      const body = { basketId, items, ...(basketRevision === undefined ? {} : { basketRevision }) };
      const r = await call(stats, 'POST', `${serviceUrl('order-command')}/orders`, body, { ...auth, 'idempotency-key': randomUUID() });
      if (r.status === 201) {
        stats.ordersPlaced++;
        load.scope.acknowledged.push(r.json!.orderId as string);
        if (randomInt(100) < CANCEL_PERCENT) startCancel(r.json!.orderId as string, auth);
        // A refilled basket is kept (never deleted): the snapshot checks its extra line.
        if (randomInt(100) < REFILL_PERCENT) await refill(basketId, lines, auth);
      }
      // A refused order's shopper gives up: the basket goes (else thousands pile up and every product event rewrites them all).
      else if (r.status === 409) await call(stats, 'DELETE', basketUrl(basketId), undefined, auth);
      // Told to come back (503 with Retry-After): the shopper waits as told, the basket kept for a later order.
      else if (r.retryAfterS !== undefined) await pause(r.retryAfterS * 1000, signal);
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
  /** A small restock of an ordered product, relative to its stock; a network error is retried once with the same Idempotency-Key. */
  const adjust = async (productId: string) => {
    const body = { delta: 1 + randomInt(MAX_ADJUSTMENT), reason: 'chaos restock' };
    const headers = { ...admin(), 'idempotency-key': randomUUID() };
    for (let attempt = 1; attempt <= 2; attempt++) {
      const r = await call(stats, 'POST', `${serviceUrl('inventory')}/inventory/${productId}/adjustments`, body, headers);
      if (r.status === 200) {
        stats.adjustments++;
        return;
      }
      if (r.status !== 0) return;
    }
  };
  const restockClient = async () => {
    while (!signal.aborted) {
      if (load.restocked.length) {
        const r = await call(stats, 'PUT', `${serviceUrl('inventory')}/inventory/${pick(load.restocked)}`, { quantity: 50 + randomInt(450) }, admin());
        if (r.status === 200) stats.restocks++;
      }
      if (load.ordered.length) await adjust(pick(load.ordered));
      await pause(200, signal);
    }
  };
  await Promise.all([...Array.from({ length: o.clients }, (_, i) => orderClient(i)), priceClient(), restockClient()]);
  await Promise.all([...cancelling]); // no client is left to start another
}
