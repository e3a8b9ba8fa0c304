import type { Migration } from '@qtshop/shared';
import * as m001 from './001_inventory_outbox_inbox';

export const inventoryMigrations: Migration[] = [m001];
