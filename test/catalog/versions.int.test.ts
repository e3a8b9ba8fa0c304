// The catalog's quantity follows inventory's stock versions: ProductQuantityUpdated applies only when it
// is newer than the stock version the quantity came from; older or equal is counted stale and changes
// nothing, also when it comes back from the dead-letter topic.
import { randomUUID } from 'node:crypto';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { pgInbox } from '@qtshop/shared/messaging';
import { migrateAll } from '../../scripts/migrate';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { CATALOG_TOPICS, catalogHandlers } from '../../services/catalog/src/consumers';
import { createProduct } from '../../services/catalog/src/domain/products';
import { findProduct } from '../../services/catalog/src/store';
import { quiet } from '../support/services';
import { consumerForTest, waitCount, type ConsumerForTest, waitPgProcessed } from '../support/versions';

const outbox = createOutboxWriter();

const infra = loadInfra();
const kafka = createKafka(infra.kafka, 'test-catalog-versions');
const db = createDb(infra, loadCatalogConfig().CATALOG_DB);
let consumer: ConsumerForTest;

beforeAll(async () => {
  await migrateAll(['catalog'], quiet);
  consumer = await consumerForTest(kafka, { topics: CATALOG_TOPICS, handlers: catalogHandlers(quiet), inbox: pgInbox(db) });
}, 60_000);
afterAll(async () => {
  await consumer?.stop();
  await db.destroy();
});

const processed = (eventId: string) => waitPgProcessed(db, eventId, 'catalog');
const newProduct = () =>
  createProduct({ db, outbox }, { name: `Kettle ${randomUUID()}`, description: '', type: 'kitchen', brand: 'Tetsu', pictureUrl: '', price: 3900 });
const quantity = (productId: string, q: number, version: number, id?: string) =>
  consumer.publish('ProductQuantityUpdated', { productId, quantity: q, version }, id);
const quantityOf = async (productId: string) => (await findProduct(db, productId))!.quantity;

describe('catalog, ProductQuantityUpdated with versions', () => {
  it('keeps the quantity of stock version 3 when version 2 arrives afterwards under a fresh event id, and counts it stale', async () => {
    const p = await newProduct();
    await processed((await quantity(p.id, 30, 3)).id);
    expect(await quantityOf(p.id)).toBe(30);

    const stale = await consumer.count('ProductQuantityUpdated', 'stale');
    await processed((await quantity(p.id, 20, 2)).id);
    expect(await consumer.count('ProductQuantityUpdated', 'stale')).toBe(stale + 1);
    expect(await quantityOf(p.id)).toBe(30);

    await processed((await quantity(p.id, 31, 3)).id); // equal: stale as well
    expect(await consumer.count('ProductQuantityUpdated', 'stale')).toBe(stale + 2);
    expect(await quantityOf(p.id)).toBe(30);
  }, 60_000);

  it('applies a newer version after a gap (3, then 5): each event carries the whole quantity', async () => {
    const p = await newProduct();
    await processed((await quantity(p.id, 3, 3)).id);
    await processed((await quantity(p.id, 5, 5)).id);
    expect(await quantityOf(p.id)).toBe(5);
  }, 60_000);

  it('skips as stale a dead-lettered older event redriven after a newer one', async () => {
    const p = await newProduct();
    await processed((await quantity(p.id, 2, 2)).id);
    const older = randomUUID();
    consumer.failing.add(older);
    await quantity(p.id, 3, 3, older);
    await consumer.waitDeadLettered(older);
    consumer.failing.delete(older); // the fix
    await processed((await quantity(p.id, 4, 4)).id);

    const stale = await consumer.count('ProductQuantityUpdated', 'stale');
    await consumer.redrive();
    await processed(older);
    await waitCount(() => consumer.count('ProductQuantityUpdated', 'stale'), stale + 1, 'the redriven event counted stale');
    expect(await quantityOf(p.id)).toBe(4);
  }, 60_000);
});
