import type { Migration } from '@qtshop/shared';
import * as m001 from './001_products_outbox_inbox';

export const catalogMigrations: Migration[] = [m001];
