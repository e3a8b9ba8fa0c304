// A poison outbox row (an illegal topic, a payload over Kafka's limit) never stops a database's stream, in
// either relay mode: the rows behind it are delivered, it is quarantined, listed and counted, and
// `npm run outbox -- retry` re-sends it after a fix. And the writer refuses an oversized event up front.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { traceparentFrom } from '@qtshop/shared/observability';
import { ConnectClient } from '@qtshop/shared/delivery';
import { AGGREGATE_TYPES, readConnector, restrictOutboxAggregateTypes } from '@qtshop/shared/tooling';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { startCatalog } from '../../services/catalog/src/service';
import type { RelayMode } from '../support/relay';
import { ADMIN, http, quiet } from '../support/services';
import { cli, createProducts, debeziumDelivers, infra, metric, openDb, productFields, REPAIR_AFTER_MS, startShop, waitInInventory, type Shop } from './support';

const catalogDb = openDb('catalog');
const inventoryDb = openDb('inventory');
afterAll(async () => {
  await catalogDb.destroy();
  await inventoryDb.destroy();
});

const CONSTRAINT = 'outbox_aggregatetype_known';
const CONNECTOR = readConnector('catalog-outbox');
const connect = ConnectClient.of(infra.connect);
const restoreCheck = () => restrictOutboxAggregateTypes(catalogDb);

/** A ProductCreated row written by hand (what a buggy writer or a manual fix could leave in the outbox). */
async function insertByHand(db: Knex, aggregatetype: string, name: string): Promise<{ id: string; productId: string }> {
  const id = randomUUID();
  const productId = randomUUID();
  await db('outbox').insert({
    id,
    aggregatetype,
    aggregateid: productId,
    type: 'ProductCreated',
    payload: JSON.stringify({ productId, version: 1, ...productFields(name) }),
    traceparent: traceparentFrom(),
  });
  return { id, productId };
}

describe.each<RelayMode>(['debezium', 'polling'])('a poison outbox row with the %s relay', (mode) => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop(mode, ['catalog']);
  }, 120_000);
  afterAll(() => shop.stop());

  it('is quarantined, listed and counted; the events behind it arrive; retry re-sends it after a fix', async () => {
    const quarantinedBefore = await metric(shop.relay, 'relay_quarantined_total', { database: 'catalog' });
    const restarts = () => metric(shop.relay, 'relay_connector_restarts_total', { database: 'catalog', connector: CONNECTOR.name });
    const restartsBefore = await restarts();
    // The database refuses an unknown aggregate type; to prove the relay copes with one anyway (a row from
    // before the check, or written around it) the test lifts the check for the insert.
    await expect(insertByHand(catalogDb, 'bad topic!', 'refused')).rejects.toThrow(CONSTRAINT);
    await catalogDb.raw('alter table outbox drop constraint ??', [CONSTRAINT]);
    let unroutable: { id: string; productId: string };
    try {
      unroutable = await insertByHand(catalogDb, 'bad topic!', 'Unroutable kettle');
      const tooLarge = await insertByHand(catalogDb, 'product', 'x'.repeat(1_500_000));
      const behind = await createProducts(shop.catalog.url, 5, 2);

      // Delivered within the repair bound, whatever the poison did to the stream.
      await waitInInventory(inventoryDb, behind, REPAIR_AFTER_MS + 20_000);
      if (mode === 'debezium') {
        // The task skipped the rows the producer refused (errors.tolerance=all) and kept streaming: it never
        // failed, so the supervisor restarted nothing, and Debezium, not the repair, carries the next events.
        expect(await connect.isRunning(CONNECTOR.name)).toBe(true);
        await debeziumDelivers(shop.catalog.url, catalogDb);
        expect(await restarts()).toBe(restartsBefore);
      }
      const quarantined = await waitUntil(
        async () => {
          const rows = await catalogDb('outbox')
            .whereIn('id', [unroutable.id, tooLarge.id])
            .whereNotNull('quarantined_at')
            .select('id', 'quarantine_error', 'sent_at');
          return rows.length === 2 ? rows : undefined;
        },
        { timeoutMs: REPAIR_AFTER_MS + 20_000, what: 'both poison rows quarantined' },
      );
      expect(quarantined.every((r) => r.sent_at === null)).toBe(true);
      expect(quarantined.find((r) => r.id === unroutable.id)!.quarantine_error).toMatch(/unroutable/);
      expect(quarantined.find((r) => r.id === tooLarge.id)!.quarantine_error).toMatch(/too large/);
      expect(await metric(shop.relay, 'relay_quarantined_total', { database: 'catalog' })).toBeGreaterThanOrEqual(quarantinedBefore + 2);

      const listed = await cli('scripts/outbox.ts', ['quarantined', 'catalog']);
      expect(listed.code).toBe(0);
      const lines = listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; quarantine_error: string });
      expect(lines.map((l) => l.id)).toEqual(expect.arrayContaining([unroutable.id, tooLarge.id]));

      // The fix: route the first to the product topic, shrink the second; then release both.
      await catalogDb('outbox').where({ id: unroutable.id }).update({ aggregatetype: 'product' });
      await restoreCheck();
      await catalogDb('outbox')
        .where({ id: tooLarge.id })
        .update({ payload: JSON.stringify({ productId: tooLarge.productId, version: 1, ...productFields('Large kettle, trimmed') }) });
      for (const { id } of [unroutable, tooLarge]) {
        const retried = await cli('scripts/outbox.ts', ['retry', id, 'catalog']);
        expect({ code: retried.code, stderr: retried.stderr }).toMatchObject({ code: 0 });
      }
      await waitInInventory(inventoryDb, [unroutable.productId, tooLarge.productId], REPAIR_AFTER_MS + 20_000);
      expect(await catalogDb('outbox').whereIn('id', [unroutable.id, tooLarge.id]).whereNull('sent_at').count({ n: '*' })).toEqual([{ n: '0' }]);
      expect((await cli('scripts/outbox.ts', ['retry', unroutable.id, 'catalog'])).code).toBe(1); // no longer quarantined
    } finally {
      if (!(await catalogDb('pg_constraint').where({ conname: CONSTRAINT }).first())) {
        await catalogDb('outbox').whereNotIn('aggregatetype', AGGREGATE_TYPES).delete();
        await restoreCheck();
      }
    }
  }, 120_000);
});

describe('the outbox writer', () => {
  it('refuses an event over OUTBOX_MAX_EVENT_BYTES with 413 and writes nothing', async () => {
    const svc = await startCatalog(loadCatalogConfig({ ...process.env, ADMIN_TOKEN: 'dev-admin-token', OUTBOX_MAX_EVENT_BYTES: '2000' }), quiet, 0);
    try {
      const name = `Too long ${randomUUID()}`;
      const res = await http('POST', `http://127.0.0.1:${svc.port}/products`, { ...productFields(name), description: 'd'.repeat(3000) }, ADMIN);
      expect(res.status).toBe(413);
      expect(res.json).toEqual({
        error: { code: 'event_too_large', message: expect.stringMatching(/ProductCreated event would be \d+ bytes; the limit is 2000/) },
      });
      expect(await catalogDb('products').where({ name }).count({ n: '*' })).toEqual([{ n: '0' }]);
      expect(await catalogDb('outbox').whereRaw("payload->>'name' = ?", [name]).count({ n: '*' })).toEqual([{ n: '0' }]);
      const small = await http('POST', `http://127.0.0.1:${svc.port}/products`, productFields(), ADMIN);
      expect(small.status).toBe(201);
    } finally {
      await svc.stop();
    }
  });
});
