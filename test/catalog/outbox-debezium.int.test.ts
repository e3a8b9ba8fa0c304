// Product upsert through Debezium: POST then PUT a product with the catalog-outbox connector registered.
import { randomUUID } from 'node:crypto';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import { createdAtHeaderSql } from '@qtshop/shared/outbox';
import { ConnectClient, registerConnector } from '@qtshop/shared/delivery';
import { readConnector } from '@qtshop/shared/tooling';
import { TopicReader } from '../support/kafka';
import { recordContractProblems } from '../support/contracts';
import { ADMIN, catalogForTest, http } from '../support/services';

const infra = loadInfra();
const db = createDb(infra, 'catalog');
const admin = createDb(infra, 'postgres');
const kafka = createKafka(infra.kafka, 'test-catalog-debezium');
let svc: Awaited<ReturnType<typeof catalogForTest>>;
let reader: TopicReader;

beforeAll(async () => {
  svc = await catalogForTest();
  await registerConnector(ConnectClient.of(infra.connect), admin, readConnector('catalog-outbox'));
  reader = await TopicReader.start(kafka, ['qtshop.product']);
}, 90_000);
afterAll(async () => {
  await reader.stop();
  await svc.stop();
  await Promise.all([db.destroy(), admin.destroy()]);
});

describe('catalog outbox streamed by Debezium', () => {
  it('delivers ProductCreated then ProductUpdated on qtshop.product with key, headers and payload of the outbox rows', async () => {
    const fields = { name: `Lamp ${randomUUID()}`, description: 'Brass', type: 'home', brand: 'Lumo', pictureUrl: 'https://img.example/lamp.png', price: 4900 };
    const created = await http('POST', `${svc.url}/products`, fields, ADMIN);
    const id: string = created.json.id;
    const updated = await http('PUT', `${svc.url}/products/${id}`, { ...fields, price: 4500 }, ADMIN);
    expect(updated.status).toBe(200);

    const recs = await reader.waitFor((r) => r.key === id, 2, 30_000);
    const rows = await db('outbox')
      .where({ aggregateid: id })
      .orderBy('position')
      .select('*', db.raw(`${createdAtHeaderSql('created_at')} as created_at_header`));
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
    expect(JSON.parse(recs[1]!.value!)).toEqual({ productId: id, ...fields, price: 4500, version: 2 });
  }, 60_000);
});
