import type { Migration } from '@qtshop/shared/tooling';
import * as m001 from './001_products_outbox_inbox';
import * as m002 from './002_aggregate_versions';
import * as m003 from './003_outbox_delivery';
import * as m004 from './004_inbox_audit';
import * as m005 from './005_inbox_retention';
import * as m006 from './006_outbox_misrouted';
import * as m007 from './007_role_grants';

export const catalogMigrations: Migration[] = [m001, m002, m003, m004, m005, m006, m007];
