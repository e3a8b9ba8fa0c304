import type { Migration } from '@qtshop/shared';
import * as m001 from './001_products_outbox_inbox';
import * as m003 from './003_outbox_delivery';

export const catalogMigrations: Migration[] = [m001, m003];
