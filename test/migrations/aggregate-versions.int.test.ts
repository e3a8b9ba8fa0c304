// The aggregate-version migrations on databases that already hold rows (scratch databases migrated up to
// the previous migration, filled, then migrated to the latest): own versions start at 1, held versions at
// 0 (older than any versioned event), and the order read model at the version its status implies.
import { randomUUID } from 'node:crypto';
import { migrateLatest, type Migration } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../../migrations';
import { scratchDb, type ScratchDb } from '../support/scratch';

const upTo = (list: Migration[], name: string) =>
  list.slice(
    0,
    list.findIndex((m) => m.name === name),
  );
const scratches: ScratchDb[] = [];
afterAll(async () => {
  for (const s of scratches) await s.drop();
});
async function before(database: keyof typeof MIGRATIONS, name: string) {
  const s = await scratchDb(`migr_${database}`);
  scratches.push(s);
  await migrateLatest(s.db, upTo(MIGRATIONS[database], name));
  return s.db;
}

describe('002/003_aggregate_versions on existing rows', () => {
  it('catalog: products at version 1, quantity from no stock version yet (0)', async () => {
    const db = await before('catalog', '002_aggregate_versions');
    const id = randomUUID();
    await db('products').insert({ id, name: 'Lamp', description: '', type: 'home', brand: 'Lumo', picture_url: '', price: 100, quantity: 4 });
    await migrateLatest(db, MIGRATIONS.catalog);
    expect(await db('products').where({ id }).first()).toMatchObject({ version: 1, stock_version: 0, quantity: 4 });
  });

  it('inventory: stock items at version 1, name from no product version yet (0)', async () => {
    const db = await before('inventory', '002_aggregate_versions');
    const id = randomUUID();
    await db('product_inventory').insert({ product_id: id, name: 'Lamp', quantity: 3 });
    await migrateLatest(db, MIGRATIONS.inventory);
    expect(await db('product_inventory').where({ product_id: id }).first()).toMatchObject({ version: 1, product_version: 0, quantity: 3 });
  });

  it('orders: cached prices from no product version yet (0)', async () => {
    const db = await before('orders', '003_aggregate_versions');
    const id = randomUUID();
    await db('product_prices').insert({ product_id: id, price: 100 });
    await migrateLatest(db, MIGRATIONS.orders);
    expect(await db('product_prices').where({ product_id: id }).first()).toMatchObject({ product_version: 0 });
  });

  it('order_query: Pending rows at version 1, decided rows at 2', async () => {
    const db = await before('order_query', '002_aggregate_versions');
    const rows = ['Pending', 'Confirmed', 'Rejected'].map((status) => ({ order_id: randomUUID(), status }));
    await db('orders').insert(rows);
    await migrateLatest(db, MIGRATIONS.order_query);
    const versions = await db('orders')
      .whereIn(
        'order_id',
        rows.map((r) => r.order_id),
      )
      .select('status', 'version');
    expect(Object.fromEntries(versions.map((r) => [r.status, r.version]))).toEqual({ Pending: 1, Confirmed: 2, Rejected: 2 });
  });
});
