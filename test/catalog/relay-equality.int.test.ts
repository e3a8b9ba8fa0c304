// Both relays on the same outbox row: Debezium and the polling relay each publish it once; consumers
// must not be able to tell the two records apart.
import { randomUUID } from 'node:crypto';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import { ConnectClient, registerConnector } from '@qtshop/shared/delivery';
import { readConnector } from '@qtshop/shared/tooling';
import { loadRelayConfig } from '../../services/relay/src/config';
import { createRelay, type Relay } from '../../services/relay/src/relay';
import { TopicReader } from '../support/kafka';
import { recordContractProblems } from '../support/contracts';
import { ADMIN, catalogForTest, http, quiet } from '../support/services';

const infra = loadInfra();
const admin = createDb(infra, 'postgres', { max: 1 });
const kafka = createKafka(infra.kafka, 'test-relay-equality');
let svc: Awaited<ReturnType<typeof catalogForTest>>;
let relay: Relay;
let reader: TopicReader;

beforeAll(async () => {
  svc = await catalogForTest();
  await registerConnector(ConnectClient.of(infra.connect), admin, readConnector('catalog-outbox'));
  relay = createRelay(
    { ...loadRelayConfig(), RELAY_PORT: 0, RELAY_MODE: 'polling', OUTBOX_DATABASES: ['catalog'], OUTBOX_POLL_INTERVAL_MS: 100 },
    { log: quiet },
  );
  await relay.start();
  reader = await TopicReader.start(kafka, ['qtshop.product']);
}, 90_000);
afterAll(async () => {
  await reader.stop();
  await relay.stop();
  await svc.stop();
  await admin.destroy();
});

describe('Debezium and the polling relay', () => {
  it('produce equal records for the same outbox row: topic, partition, key, headers and parsed value', async () => {
    const fields = { name: `Mug ${randomUUID()}`, description: 'Stoneware, "speckled" — 350 ml', type: 'kitchen', brand: 'Tôle', pictureUrl: '', price: 1250 };
    const created = await http('POST', `${svc.url}/products`, fields, ADMIN);
    const [a, b] = await reader.waitFor((r) => r.key === created.json.id, 2, 30_000);
    expect(a!.headers.id).toBe(b!.headers.id);
    const shape = (r: typeof a) => ({ topic: r!.topic, partition: r!.partition, key: r!.key, headers: r!.headers, value: JSON.parse(r!.value!) });
    expect(shape(a)).toEqual(shape(b));
    expect(shape(a).value).toEqual({ productId: created.json.id, ...fields, version: 1 });
    expect([...recordContractProblems(a!), ...recordContractProblems(b!)]).toEqual([]);
  }, 60_000);
});
