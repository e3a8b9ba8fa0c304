import type { Migration } from '@qtshop/shared/tooling';
import * as m001 from './001_orders_read_model';
import * as m002 from './002_aggregate_versions';

export const orderQueryMigrations: Migration[] = [m001, m002];
