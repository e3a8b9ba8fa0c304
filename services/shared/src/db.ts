// PostgreSQL access through knex (pg driver). Every service database comes from the same infra settings.
import knexFactory, { type Knex } from 'knex';
import type { Infra } from './infra';

export type { Knex };

export function createDb(infra: Infra, database: string, pool: { min?: number; max?: number } = {}): Knex {
  const { host, port, user, password } = infra.pg;
  return knexFactory({
    client: 'pg',
    connection: { host, port, user, password, database },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
  });
}
