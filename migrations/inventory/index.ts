import type { Migration } from '@qtshop/shared/tooling';
import * as m001 from './001_inventory_outbox_inbox';
import * as m002 from './002_aggregate_versions';
import * as m003 from './003_outbox_delivery';
import * as m004 from './004_inbox_audit';
import * as m005 from './005_stock_decisions';
import * as m006 from './006_inbox_retention';
import * as m007 from './007_outbox_misrouted';
import * as m008 from './008_stock_adjustments';
import * as m009 from './009_stock_releases';
import * as m010 from './010_role_grants';

export const inventoryMigrations: Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010];
