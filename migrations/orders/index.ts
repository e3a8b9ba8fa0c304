import type { Migration } from '@qtshop/shared';
import * as m001 from './001_order_events_outbox_inbox';

export const ordersMigrations: Migration[] = [m001];
