// Every database's migrations, by database name (DESIGN.md: each service owns its database).
import type { DatabaseName, Migration } from '@qtshop/shared';
import { catalogMigrations } from './catalog';
import { inventoryMigrations } from './inventory';

export const MIGRATIONS: Partial<Record<DatabaseName, Migration[]>> = {
  catalog: catalogMigrations,
  inventory: inventoryMigrations,
};
