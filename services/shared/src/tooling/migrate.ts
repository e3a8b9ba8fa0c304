// Knex migrations without file discovery: each database's migrations are a list of TypeScript modules
// imported statically (migrations/<db>/index.ts), so they run the same under tsx, jest and node.
import type { Knex } from 'knex';

export interface Migration {
  name: string;
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
}

class ListSource implements Knex.MigrationSource<Migration> {
  constructor(private readonly list: Migration[]) {}
  async getMigrations(): Promise<Migration[]> {
    return this.list;
  }
  getMigrationName(m: Migration): string {
    return m.name;
  }
  async getMigration(m: Migration): Promise<Knex.Migration> {
    return { up: m.up, down: m.down };
  }
}

/** Applies the pending migrations (re-runnable: applied ones are skipped). Returns the names applied now. */
export async function migrateLatest(knex: Knex, migrations: Migration[]): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource: new ListSource(migrations) })) as [number, string[]];
  return applied;
}
