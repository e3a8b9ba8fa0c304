// PostgreSQL access through knex (pg driver). Every service database comes from the same infra settings.
import knexFactory, { type Knex } from 'knex';
import type { Infra } from './infra';

export type { Knex };

/** `applicationName` names the connections in pg_stat_activity (what the benchmarks measure by). */
export function createDb(infra: Infra, database: string, pool: { min?: number; max?: number } = {}, applicationName?: string): Knex {
  const { host, port, user, password } = infra.pg;
  return knexFactory({
    client: 'pg',
    connection: { host, port, user, password, database, ...(applicationName ? { application_name: applicationName } : {}) },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
  });
}
