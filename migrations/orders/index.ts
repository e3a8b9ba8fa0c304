import type { Migration } from '@qtshop/shared/tooling';
import * as m001 from './001_order_events_outbox_inbox';
import * as m002 from './002_product_prices';
import * as m003 from './003_aggregate_versions';
import * as m004 from './004_outbox_delivery';
import * as m005 from './005_inbox_audit';
import * as m006 from './006_retention';
import * as m007 from './007_pending_orders';
import * as m008 from './008_outbox_misrouted';
import * as m009 from './009_pending_orders_cancelled';
import * as m010 from './010_role_grants';

export const ordersMigrations: Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010];
