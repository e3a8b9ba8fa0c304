// The journey's ceiling: the orders/s this machine could do if only PostgreSQL mattered. pgbench runs the
// SQL of one order's transactions in each service database (bench/pgbench/journey-<db>.sql, the statements
// the services send, captured with log_statement = all), each database alone and as fast as it goes with
// the whole machine; an order needs all four, so one order costs the sum of the four per-order times and
// the ceiling is 1 / Σ (1 / rate of database). The scripts run in databases of their own
// (bench_journey_<db>, migrated like the shop's), so no connector publishes their outbox rows.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, type DatabaseName, type Infra } from '@qtshop/shared/infra';
import { migrateLatest } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../../migrations';
import { runPgbench } from '../lib/pgbench';

const PGBENCH_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)), 'pgbench');

/** The databases an order's transactions touch, in the order of the journey. */
export const CEILING_DATABASES: DatabaseName[] = ['orders', 'inventory', 'order_query', 'catalog'];

export const ceilingScript = (db: DatabaseName) => resolve(PGBENCH_DIR, `journey-${db}.sql`);
export const ceilingDbName = (prefix: string, db: DatabaseName) => `${prefix}_${db}`;

export interface CeilingRow {
  database: DatabaseName;
  /** Orders' worth of this database's statements per second, pgbench alone. */
  ordersPerSecond: number;
  failed: number;
}

export interface Ceiling {
  rows: CeilingRow[];
  /** 1 / Σ (1 / rate): orders/s if each order's PostgreSQL work were all that ran. */
  ordersPerSecond: number;
  clients: number;
  seconds: number;
}

/** Combines the per-database rates into orders/s (an order needs every database's share). Pure. */
export const combinedRate = (rates: number[]): number => 1 / rates.reduce((sum, r) => sum + 1 / r, 0);

/** Creates (or empties) the ceiling's databases, migrated like the shop's, with `products` products seeded. */
export async function prepareCeilingDbs(infra: Infra, prefix: string, products: number): Promise<void> {
  const admin = createDb(infra, 'postgres', { max: 1 });
  try {
    for (const db of CEILING_DATABASES) {
      const name = ceilingDbName(prefix, db);
      if (!(await admin('pg_database').where({ datname: name }).first())) await admin.raw('create database ??', [name]);
    }
  } finally {
    await admin.destroy();
  }
  const ids = "(select n, md5('p' || n)::uuid as id from generate_series(1, ?::int) n)";
  // Each database's tables emptied, then its products seeded (ids md5('p' || n), as the scripts name them).
  const seed: Record<DatabaseName, { truncate: string; insert?: string }> = {
    orders: {
      truncate: 'order_events, pending_orders, outbox, idempotency_keys, processed_events, product_prices',
      insert: `insert into product_prices (product_id, price, product_version) select id, 1500, 1 from ${ids} p`,
    },
    inventory: {
      truncate: 'product_inventory, stock_decisions, stock_adjustments, outbox, processed_events',
      insert: `insert into product_inventory (product_id, name, quantity) select id, 'Item ' || n, 1000000000 from ${ids} p`,
    },
    order_query: { truncate: 'orders, processed_events' },
    catalog: {
      truncate: 'products, outbox, processed_events',
      insert: `insert into products (id, name, description, type, brand, picture_url, price, quantity)
               select id, 'Item ' || n, 'ceiling', 'bench', 'QT-Shop', 'https://img.example/p.png', 1500, 1000000000 from ${ids} p`,
    },
  };
  for (const db of CEILING_DATABASES) {
    const knex = createDb(infra, ceilingDbName(prefix, db), { max: 1 });
    try {
      await migrateLatest(knex, MIGRATIONS[db]);
      await knex.raw(`truncate ${seed[db].truncate}`);
      if (seed[db].insert) await knex.raw(seed[db].insert, [products]);
      await knex.raw('vacuum analyze');
    } finally {
      await knex.destroy();
    }
  }
}

/** Runs each database's script alone for `seconds` with `clients` pgbench clients; `onRow` after each. */
export async function measureCeiling(
  infra: Infra,
  o: { prefix: string; products: number; clients: number; seconds: number },
  onRow?: (row: CeilingRow) => void,
): Promise<Ceiling> {
  const rows: CeilingRow[] = [];
  for (const database of CEILING_DATABASES) {
    const run = await runPgbench(infra, {
      db: ceilingDbName(o.prefix, database),
      script: ceilingScript(database),
      clients: o.clients,
      seconds: o.seconds,
      defines: { products: String(o.products) },
      // Prepared, as the services send these statements (PG_PREPARED_STATEMENTS).
      protocol: 'prepared',
    });
    const row = { database, ordersPerSecond: run.tps, failed: run.failed };
    rows.push(row);
    onRow?.(row);
  }
  return { rows, ordersPerSecond: combinedRate(rows.map((r) => r.ordersPerSecond)), clients: o.clients, seconds: o.seconds };
}
