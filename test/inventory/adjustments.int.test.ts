// Safe stock changes (docs/walkthroughs.md "6. Restocking"): an adjustment changes the stock relative to what it is, under the
// row lock reservations take, so a restock racing with reservations loses none of them; PUT honours
// If-Match atomically; an Idempotency-Key applies a retried adjustment once. Over HTTP against the service
// started in-process, with reservations made by inventory's own use case (reserveStock) in transactions
// of the test's.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { reserveStock } from '../../services/inventory/src/domain/reservation';
import { setStock } from '../../services/inventory/src/domain/stock';
import { findItem, insertItem } from '../../services/inventory/src/store';
import { stockEventsOnly } from '../support/outbox';
import { ADMIN, http, inventoryForTest } from '../support/services';

const outbox = createOutboxWriter();
// The orders below are made up: stockEventsOnly writes no stock decision for them.

const db = createDb(loadInfra(), loadInventoryConfig().INVENTORY_DB);
let inventory: Awaited<ReturnType<typeof inventoryForTest>>;
beforeAll(async () => {
  inventory = await inventoryForTest();
}, 120_000);
afterAll(async () => {
  await inventory?.stop();
  await db.destroy();
});

/** A stock item of a product made up for the test, at `quantity` (version 2: created at 1, then set). */
async function newItem(quantity: number): Promise<string> {
  const id = randomUUID();
  await db.transaction((trx) => insertItem(trx, id, `Kettle ${id}`, 1));
  await setStock({ db, outbox }, id, quantity);
  return id;
}
const url = (id: string, tail = '') => `${inventory.url}/inventory/${id}${tail}`;
const adjust = (id: string, body: unknown, headers: Record<string, string> = {}) => http('POST', url(id, '/adjustments'), body, { ...ADMIN, ...headers });
const put = (id: string, quantity: number, headers: Record<string, string> = {}) => http('PUT', url(id), { quantity }, { ...ADMIN, ...headers });
const quantityEvents = (id: string) =>
  db('outbox').where({ aggregateid: id, type: 'ProductQuantityUpdated' }).orderBy('position').pluck('payload') as Promise<
    Array<{ quantity: number; version: number }>
  >;
const ledger = (id: string) =>
  db('stock_adjustments').where({ product_id: id }).orderBy('version').select('kind', 'delta', 'reason', 'quantity_after', 'version', 'idempotency_key');
const order = (productId: string, quantity = 1) => ({
  orderId: randomUUID(),
  basketId: 'b',
  items: [{ productId, price: 1000, quantity }],
  total: 1000 * quantity,
  version: 1,
});

/**
 * A reservation of 1 of `id`, uncommitted: its transaction holds the row lock until commit(). meanwhile()
 * sends a request, and requestWaits() returns once that request waits for the lock (or has answered).
 */
async function reservationHoldingTheLock(id: string) {
  const trx = await db.transaction();
  const { pid } = (await trx.raw('select pg_backend_pid() as pid')).rows[0];
  expect(await reserveStock(trx, stockEventsOnly, order(id))).toBe('reserved');
  let answered = false;
  const blocked = async () => (await db.raw('select count(*)::int as n from pg_stat_activity where ? = any(pg_blocking_pids(pid))', [pid])).rows[0].n > 0;
  return {
    meanwhile: <T>(request: () => Promise<T>) => request().finally(() => (answered = true)),
    requestWaits: () => waitUntil(async () => answered || (await blocked()), { timeoutMs: 10_000, what: 'the request waiting for the row lock' }),
    commit: () => trx.commit(),
  };
}

describe('POST /inventory/:productId/adjustments', () => {
  it('restocks +10 while 20 reservations of 1 run: 100 ends at 90 exactly, the last ProductQuantityUpdated carrying 90 at the highest version', async () => {
    const id = await newItem(100);
    // The first reservation holds the row lock, uncommitted, while the adjustment arrives: an adjustment that
    // read the stock before taking the lock would read 100 and erase it.
    const first = await reservationHoldingTheLock(id);
    const adjusting = first.meanwhile(() => adjust(id, { delta: 10, reason: 'restock from supplier' }));
    await first.requestWaits();
    const others = Array.from({ length: 19 }, () => db.transaction((trx) => reserveStock(trx, stockEventsOnly, order(id))));
    await first.commit();
    const [res, ...outcomes] = await Promise.all([adjusting, ...others]);

    expect(res.status).toBe(200);
    expect(outcomes.every((o) => o === 'reserved')).toBe(true);
    expect((await findItem(db, id))?.quantity).toBe(90);
    const events = await quantityEvents(id);
    expect(events).toHaveLength(22); // the set to 100, 20 reservations, the adjustment
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 22 }, (_, i) => i + 2));
    expect(events.at(-1)).toEqual({ productId: id, quantity: 90, version: 23 });
    expect((await http('GET', url(id))).headers.get('etag')).toBe('"23"');
    // The ledger accounts for the stock: set 100, +10, and 20 reserved in between.
    const rows = await ledger(id);
    expect(rows.map((r) => [r.kind, r.delta])).toEqual([
      ['set', 100],
      ['adjustment', 10],
    ]);
    const adjusted = rows[1]!;
    expect(adjusted).toMatchObject({ reason: 'restock from supplier', idempotency_key: null });
    expect(res.json).toMatchObject({ productId: id, adjustment: { delta: 10, quantityAfter: adjusted.quantity_after, version: adjusted.version } });
    expect(res.headers.get('etag')).toBe(`"${adjusted.version}"`);
    expect(events.find((e) => e.version === adjusted.version)?.quantity).toBe(adjusted.quantity_after);
  }, 60_000);

  it('refuses an adjustment below zero with 409 insufficient_stock: nothing changes, no event, no ledger row', async () => {
    const id = await newItem(5);
    const before = { events: await quantityEvents(id), ledger: await ledger(id), etag: (await http('GET', url(id))).headers.get('etag') };
    const res = await adjust(id, { delta: -6, reason: 'write-off' });
    expect(res.status).toBe(409);
    expect(res.json.error).toEqual({ code: 'insufficient_stock', message: `insufficient stock for ${id}: the stock is 5, a delta of -6 would leave -1` });
    expect((await findItem(db, id))?.quantity).toBe(5);
    expect(await quantityEvents(id)).toEqual(before.events);
    expect(await ledger(id)).toEqual(before.ledger);
    expect((await http('GET', url(id))).headers.get('etag')).toBe(before.etag);

    const rest = await adjust(id, { delta: -5, reason: 'write-off' });
    expect(rest.status).toBe(200);
    expect(rest.json).toMatchObject({ quantity: 0, adjustment: { delta: -5, quantityAfter: 0 } });
  }, 30_000);

  it('answers a retried Idempotency-Key with the first adjustment, applied once, even when the retry races the first', async () => {
    const id = await newItem(100);
    const key = randomUUID();
    const body = { delta: 10, reason: 'restock' };
    const [a, b] = await Promise.all([adjust(id, body, { 'Idempotency-Key': key }), adjust(id, body, { 'Idempotency-Key': key })]);
    const later = await adjust(id, body, { 'Idempotency-Key': key });
    for (const res of [a, b, later]) expect(res.status).toBe(200);
    expect([a, b, later].map((r) => r.headers.get('idempotent-replayed')).sort()).toEqual([null, 'true', 'true']);
    expect(new Set([a, b, later].map((r) => r.json.adjustment.id)).size).toBe(1);
    expect(later.json).toMatchObject({ quantity: 110, adjustment: { delta: 10, reason: 'restock', quantityAfter: 110 } });
    expect((await findItem(db, id))?.quantity).toBe(110);
    expect((await quantityEvents(id)).map((e) => e.quantity)).toEqual([100, 110]);
    expect((await ledger(id)).filter((r) => r.idempotency_key === key)).toHaveLength(1);

    const reused = await adjust(id, { delta: 20, reason: 'restock' }, { 'Idempotency-Key': key });
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe('idempotency_key_reused');
    expect((await findItem(db, id))?.quantity).toBe(110);
    // Keys are per product: the same key adjusts another product.
    const other = await newItem(1);
    expect((await adjust(other, body, { 'Idempotency-Key': key })).json).toMatchObject({ quantity: 11 });
  }, 30_000);

  it.each<[string, unknown, Record<string, string>, number, string]>([
    ['a delta of 0', { delta: 0, reason: 'x' }, ADMIN, 400, 'validation_failed'],
    ['a fractional delta', { delta: 1.5, reason: 'x' }, ADMIN, 400, 'validation_failed'],
    ['a delta over a billion', { delta: 1_000_000_001, reason: 'x' }, ADMIN, 400, 'validation_failed'],
    ['no reason', { delta: 1 }, ADMIN, 400, 'validation_failed'],
    ['a reason over 200 characters', { delta: 1, reason: 'x'.repeat(201) }, ADMIN, 400, 'validation_failed'],
    ['no token', { delta: 1, reason: 'x' }, {}, 401, 'unauthorized'],
  ])('rejects %s, changing nothing', async (_what, body, headers, status, code) => {
    const id = await newItem(3);
    const res = await http('POST', url(id, '/adjustments'), body, headers);
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect((await findItem(db, id))?.quantity).toBe(3);
    expect(await quantityEvents(id)).toHaveLength(1);
  });

  it('answers 404 for an unknown product, and 409 stock_limit_exceeded over a billion', async () => {
    const res = await adjust(randomUUID(), { delta: 1, reason: 'x' });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not_found');
    const id = await newItem(1_000_000_000);
    expect((await adjust(id, { delta: 1, reason: 'x' })).json.error.code).toBe('stock_limit_exceeded');
  });
});

describe('ETag and If-Match on /inventory/:productId', () => {
  it('refuses PUT with a stale If-Match with 412, changing nothing; with the current ETag it sets and answers the new one', async () => {
    const id = await newItem(100);
    const read = await http('GET', url(id));
    expect(read.headers.get('etag')).toBe('"2"');
    // A reservation between the keeper's read and their write.
    await db.transaction((trx) => reserveStock(trx, stockEventsOnly, order(id, 20)));
    const before = await quantityEvents(id);

    const stale = await put(id, 110, { 'If-Match': read.headers.get('etag')! });
    expect(stale.status).toBe(412);
    expect(stale.json.error).toEqual({ code: 'precondition_failed', message: `If-Match does not match the stock item of ${id}, now at ETag "3"` });
    expect(stale.headers.get('etag')).toBe('"3"');
    for (const malformed of ['3', 'W/"3"', 'garbage']) expect((await put(id, 110, { 'If-Match': malformed })).status).toBe(412);
    expect((await findItem(db, id))?.quantity).toBe(80);
    expect(await quantityEvents(id)).toEqual(before);

    const fresh = await put(id, 90, { 'If-Match': stale.headers.get('etag')! });
    expect(fresh.status).toBe(200);
    expect(fresh.json).toMatchObject({ productId: id, quantity: 90 });
    expect(fresh.headers.get('etag')).toBe('"4"');
    expect((await http('GET', url(id))).headers.get('etag')).toBe('"4"');
    expect((await quantityEvents(id)).at(-1)).toEqual({ productId: id, quantity: 90, version: 4 });
    expect((await ledger(id)).at(-1)).toMatchObject({ kind: 'set', delta: 10, quantity_after: 90, version: 4 });
  }, 30_000);

  it('checks If-Match under the row lock: a reservation committed while the PUT waits for the lock makes its ETag stale', async () => {
    const id = await newItem(100);
    const etag = (await http('GET', url(id))).headers.get('etag')!;
    const reservation = await reservationHoldingTheLock(id);
    const putting = reservation.meanwhile(() => put(id, 110, { 'If-Match': etag }));
    await reservation.requestWaits();
    await reservation.commit();
    const res = await putting;
    expect([res.status, res.headers.get('etag')]).toEqual([412, '"3"']);
    expect((await findItem(db, id))?.quantity).toBe(99);
  }, 30_000);

  it('sets with If-Match: * (any existing item) and without If-Match (an absolute set, as before); 404 for an unknown product either way', async () => {
    const id = await newItem(1);
    const any = await put(id, 5, { 'If-Match': '*' });
    expect([any.status, any.headers.get('etag')]).toEqual([200, '"3"']);
    const plain = await put(id, 7);
    expect([plain.status, plain.json.quantity, plain.headers.get('etag')]).toEqual([200, 7, '"4"']);
    expect((await put(randomUUID(), 1, { 'If-Match': '*' })).status).toBe(404);
    expect((await put(randomUUID(), 1, { 'If-Match': '"1"' })).status).toBe(404);
  });
});
