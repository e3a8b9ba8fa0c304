// The decision deadline across the services: inventory is down when an order is placed, so no stock
// decision comes; order-command rejects the order with decision_timeout after ORDER_DECISION_TIMEOUT_MS;
// when inventory comes back it reserves the order late (OrderPlaced is before OrderRejected on the order's
// partition) and then gives the stock back (OrderRejected), once: the stock ends where it started.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { useRelay, type RelayHandle } from '../support/relay';
import { ADMIN, asAdmin as http, catalogForTest, inventoryForTest, orderCommandForTest, orderQueryForTest } from '../support/services';

type Svc = Awaited<ReturnType<typeof catalogForTest>>;
const TIMEOUT_MS = 2000;
const inventoryDb = createDb(loadInfra(), 'inventory');
afterAll(() => inventoryDb.destroy());

describe('an order whose stock decision does not come in time', () => {
  let relay: RelayHandle;
  let catalog: Svc, inventory: Svc | undefined, orderCommand: Svc, orderQuery: Svc;

  beforeAll(async () => {
    relay = await useRelay('debezium', ['catalog', 'inventory', 'orders']);
    catalog = await catalogForTest();
    inventory = await inventoryForTest();
    orderCommand = await orderCommandForTest({ ORDER_DECISION_TIMEOUT_MS: String(TIMEOUT_MS), ORDER_DECISION_SWEEP_INTERVAL_MS: '250' });
    orderQuery = await orderQueryForTest();
  }, 120_000);
  afterAll(async () => {
    for (const s of [orderQuery, orderCommand, inventory, catalog]) await s?.stop();
    await relay?.stop();
  }, 60_000);

  const wait = <T>(what: string, probe: () => Promise<T | undefined | false>) => waitUntil(probe, { timeoutMs: 30_000, what });

  it('is rejected with decision_timeout, and the reservation inventory makes when it is back is released', async () => {
    const fields = { name: `Lamp ${randomUUID()}`, description: 'Brass', type: 'home', brand: 'Lumo', pictureUrl: '', price: 4200 };
    const id: string = (await http('POST', `${catalog.url}/products`, fields, ADMIN)).json.id;
    await wait('inventory row', async () => (await http('GET', `${inventory!.url}/inventory/${id}`)).status === 200);
    expect((await http('PUT', `${inventory!.url}/inventory/${id}`, { quantity: 8 }, ADMIN)).status).toBe(200);
    await wait('order-command to know the product', async () => {
      const res = await http('POST', `${orderCommand.url}/orders`, { basketId: `warm-${randomUUID()}`, items: [{ productId: id, price: 4200, quantity: 1 }] });
      return res.status === 201 ? res : undefined;
    });
    await wait('inventory to settle the warm-up order', async () => (await http('GET', `${inventory!.url}/inventory/${id}`)).json.quantity === 7);

    await inventory!.stop();
    inventory = undefined;
    const placed = await http('POST', `${orderCommand.url}/orders`, { basketId: `b-${randomUUID()}`, items: [{ productId: id, price: 4200, quantity: 2 }] });
    expect(placed.status).toBe(201);
    const orderId: string = placed.json.orderId;
    const rejected = await wait('order-query to show the order Rejected', async () => {
      const res = await http('GET', `${orderQuery.url}/orders/${orderId}`);
      return res.json?.status === 'Rejected' ? res.json : undefined;
    });
    expect(rejected.reason).toBe('decision_timeout');

    inventory = await inventoryForTest();
    await wait('inventory to decide and release the late order', async () => {
      const d = await inventoryDb('stock_decisions').where({ order_id: orderId }).first('version', 'outcome');
      return d?.version === 2 ? d : undefined;
    });
    expect(await inventoryDb('stock_decisions').where({ order_id: orderId }).first('version', 'outcome')).toEqual({ version: 2, outcome: 'reserved' });
    expect((await http('GET', `${inventory.url}/inventory/${id}`)).json.quantity).toBe(7);
    await wait('catalog to show 7', async () => (await http('GET', `${catalog.url}/products/${id}`)).json.quantity === 7);
    expect((await http('GET', `${orderCommand.url}/orders/${orderId}`)).json).toMatchObject({ status: 'Rejected', reason: 'decision_timeout', version: 2 });
  }, 120_000);
});
