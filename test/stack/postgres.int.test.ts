import { createDb, DATABASES, loadInfra } from '@qtshop/shared/infra';
import { loadStackConfig } from '../../stack/config';

const infra = loadInfra();

describe('the stack PostgreSQL', () => {
  const db = createDb(infra, 'postgres');
  afterAll(() => db.destroy());

  it('runs with wal_level=logical so Debezium can decode the WAL', async () => {
    const res = await db.raw('show wal_level');
    expect(res.rows[0].wal_level).toBe('logical');
  });

  it('bounds the WAL a replication slot may hold back (max_slot_wal_keep_size, STACK_PG_MAX_SLOT_WAL_KEEP_SIZE)', async () => {
    const res = await db.raw('show max_slot_wal_keep_size');
    expect(res.rows[0].max_slot_wal_keep_size).toBe(loadStackConfig().pgMaxSlotWalKeepSize);
    expect(res.rows[0].max_slot_wal_keep_size).not.toBe('-1'); // -1: unbounded, the slot could fill the disk
  });

  it('has every database of the shop (DATABASES)', async () => {
    const rows: Array<{ datname: string }> = await db('pg_database').select('datname');
    expect(rows.map((r) => r.datname)).toEqual(expect.arrayContaining([...DATABASES]));
  });

  it('offers the pgoutput plugin for a logical replication slot', async () => {
    const slot = `test_slot_${Date.now()}`;
    await db.raw("select pg_create_logical_replication_slot(?, 'pgoutput')", [slot]);
    try {
      const row = await db('pg_replication_slots').where({ slot_name: slot }).first('plugin', 'slot_type');
      expect(row).toEqual({ plugin: 'pgoutput', slot_type: 'logical' });
    } finally {
      await db.raw('select pg_drop_replication_slot(?)', [slot]);
    }
  });
});
