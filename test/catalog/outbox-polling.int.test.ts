// Product upsert through the polling relay (RELAY_MODE=polling), with the Debezium connector removed.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import { createdAtHeaderSql } from '@qtshop/shared/outbox';
import { TopicReader } from '../support/kafka';
import { useRelay, type RelayHandle } from '../support/relay';
import { recordContractProblems } from '../support/contracts';
import { ADMIN, catalogForTest, http } from '../support/services';

const infra = loadInfra();
const db = createDb(infra, 'catalog');
const kafka = createKafka(infra.kafka, 'test-catalog-polling');
let svc: Awaited<ReturnType<typeof catalogForTest>>;
let relay: RelayHandle;
let reader: TopicReader;

beforeAll(async () => {
  svc = await catalogForTest();
  relay = await useRelay('polling', ['catalog']);
  reader = await TopicReader.start(kafka, ['qtshop.product']);
}, 90_000);
afterAll(async () => {
  await reader.stop();
  await relay.stop();
  await svc.stop();
  await db.destroy();
});

describe('catalog outbox relayed by polling', () => {
  it('delivers ProductCreated then ProductUpdated like Debezium does, and marks the rows sent', async () => {
    const fields = {
      name: `Chair ${randomUUID()}`,
      description: 'Oak',
      type: 'home',
      brand: 'Holz',
      pictureUrl: 'https://img.example/chair.png',
      price: 12900,
    };
    const created = await http('POST', `${svc.url}/products`, fields, ADMIN);
    const id: string = created.json.id;
    await http('PUT', `${svc.url}/products/${id}`, { ...fields, name: 'Chair II' }, ADMIN);

    const recs = await reader.waitFor((r) => r.key === id, 2, 30_000);
    const rows = await waitUntil(
      async () => {
        const list = await db('outbox')
          .where({ aggregateid: id })
          .orderBy('position')
          .select('*', db.raw(`${createdAtHeaderSql('created_at')} as created_at_header`));
        return list.every((r) => r.sent_at !== null) ? list : undefined;
      },
      { timeoutMs: 10_000, what: 'rows marked sent' },
    );
    expect(recs.map((r) => r.headers.eventType)).toEqual(['ProductCreated', 'ProductUpdated']);
    recs.forEach((rec, i) => {
      expect(rec.topic).toBe('qtshop.product');
      expect(rec.headers).toEqual({
        id: rows[i].id,
        eventType: rows[i].type,
        traceparent: rows[i].traceparent,
        createdAt: rows[i].created_at_header,
      });
      expect(JSON.parse(rec.value!)).toEqual(rows[i].payload);
      expect(recordContractProblems(rec)).toEqual([]);
    });
  }, 60_000);
});
