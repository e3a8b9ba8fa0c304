// Scenarios "Product upsert" (inventory side) and "Quantity updated", with each relay.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { useRelay, type RelayHandle, type RelayMode } from '../support/relay';
import { ADMIN, catalogForTest, http, inventoryForTest } from '../support/services';

const inventoryDb = createDb(loadInfra(), 'inventory');
afterAll(() => inventoryDb.destroy());

describe.each<RelayMode>(['debezium', 'polling'])('with the %s relay', (mode) => {
  let catalog: Awaited<ReturnType<typeof catalogForTest>>;
  let inventory: Awaited<ReturnType<typeof inventoryForTest>>;
  let relay: RelayHandle;

  beforeAll(async () => {
    relay = await useRelay(mode, ['catalog', 'inventory']);
    catalog = await catalogForTest();
    inventory = await inventoryForTest();
  }, 120_000);
  afterAll(async () => {
    await inventory.stop();
    await catalog.stop();
    await relay.stop();
  });

  const newProduct = async () => {
    const fields = { name: `Teapot ${randomUUID()}`, description: 'Cast iron', type: 'kitchen', brand: 'Tetsu', pictureUrl: '', price: 5400 };
    const res = await http('POST', `${catalog.url}/products`, fields, ADMIN);
    expect(res.status).toBe(201);
    return { id: res.json.id as string, fields };
  };
  const stockOf = (id: string) => http('GET', `${inventory.url}/inventory/${id}`);

  it('creates an inventory row with quantity 0 for a new product, and follows its name', async () => {
    const { id, fields } = await newProduct();
    const row = await waitUntil(async () => ((await stockOf(id)).status === 200 ? (await stockOf(id)).json : undefined), {
      timeoutMs: 20_000,
      what: 'inventory row',
    });
    expect(row).toMatchObject({ productId: id, name: fields.name, quantity: 0 });

    await http('PUT', `${catalog.url}/products/${id}`, { ...fields, name: 'Teapot, renamed' }, ADMIN);
    await waitUntil(async () => (await stockOf(id)).json.name === 'Teapot, renamed', { timeoutMs: 20_000, what: 'inventory name to follow' });
  }, 60_000);

  it('sets stock with PUT /inventory/:id and the catalog shows the quantity', async () => {
    const { id } = await newProduct();
    await waitUntil(async () => (await stockOf(id)).status === 200, { timeoutMs: 20_000, what: 'inventory row' });
    const put = await http('PUT', `${inventory.url}/inventory/${id}`, { quantity: 7 }, ADMIN);
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ productId: id, quantity: 7 });
    const rows = await inventoryDb('outbox').where({ aggregateid: id, type: 'ProductQuantityUpdated' });
    expect(rows.map((r) => r.payload)).toEqual([{ productId: id, quantity: 7, version: 2 }]); // created at 1, first change 2
    await waitUntil(async () => (await http('GET', `${catalog.url}/products/${id}`)).json.quantity === 7, { timeoutMs: 20_000, what: 'catalog quantity 7' });
  }, 60_000);

  if (mode === 'debezium') {
    describe('PUT /inventory/:productId with bad input', () => {
      const outboxCount = async () => Number((await inventoryDb('outbox').count<{ c: string }[]>({ c: '*' }))[0]!.c);
      it.each<[string, unknown, Record<string, string>, number, string]>([
        ['a negative quantity', { quantity: -1 }, ADMIN, 400, 'validation_failed'],
        ['a fractional quantity', { quantity: 1.5 }, ADMIN, 400, 'validation_failed'],
        ['a string quantity', { quantity: '3' }, ADMIN, 400, 'validation_failed'],
        ['an unknown field', { quantity: 3, note: 'x' }, ADMIN, 400, 'validation_failed'],
        ['no token', { quantity: 3 }, {}, 401, 'unauthorized'],
      ])(
        'rejects %s, writes no event and leaves the stock unchanged',
        async (_what, body, headers, status, code) => {
          const { id } = await newProduct();
          await waitUntil(async () => (await stockOf(id)).status === 200, { timeoutMs: 20_000, what: 'inventory row' });
          const before = await outboxCount();
          const res = await http('PUT', `${inventory.url}/inventory/${id}`, body, headers);
          expect(res.status).toBe(status);
          expect(res.json.error.code).toBe(code);
          expect(await outboxCount()).toBe(before);
          expect((await stockOf(id)).json.quantity).toBe(0);
        },
        60_000,
      );

      it('answers 404 for an unknown product and writes no event', async () => {
        const before = await outboxCount();
        const res = await http('PUT', `${inventory.url}/inventory/${randomUUID()}`, { quantity: 3 }, ADMIN);
        expect(res.status).toBe(404);
        expect(await outboxCount()).toBe(before);
      });
    });
  }
});
