// Scratch PostgreSQL databases for tests that need their own tables.
import { randomUUID } from 'node:crypto';
import { createDb, loadInfra, type Knex } from '@qtshop/shared/infra';

export interface ScratchDb {
  name: string;
  db: Knex;
  drop(): Promise<void>;
}

export async function scratchDb(prefix: string): Promise<ScratchDb> {
  const infra = loadInfra();
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = createDb(infra, 'postgres', { max: 1 });
  await admin.raw('create database ??', [name]);
  const db = createDb(infra, name);
  return {
    name,
    db,
    async drop() {
      await db.destroy();
      await admin.raw('drop database if exists ?? with (force)', [name]);
      await admin.destroy();
    },
  };
}
