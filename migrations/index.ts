// Every database's migrations, by database name: each service owns its database and its migrations
// (docs/architecture.md "Databases").
import type { DatabaseName } from '@qtshop/shared/infra';
import type { Migration } from '@qtshop/shared/tooling';
import { catalogMigrations } from './catalog';
import { inventoryMigrations } from './inventory';
import { orderQueryMigrations } from './order_query';
import { ordersMigrations } from './orders';

export const MIGRATIONS: Record<DatabaseName, Migration[]> = {
  catalog: catalogMigrations,
  inventory: inventoryMigrations,
  orders: ordersMigrations,
  order_query: orderQueryMigrations,
};
