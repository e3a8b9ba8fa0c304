import type { Migration } from '@qtshop/shared';
import * as m001 from './001_orders_read_model';

export const orderQueryMigrations: Migration[] = [m001];
