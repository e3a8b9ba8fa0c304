// Delivery confirmation, repair and quarantine of the outbox: see outboxDeliveryMigration.
import { outboxDeliveryMigration } from '@qtshop/shared/tooling';

export const name = '004_outbox_delivery';
export const { up, down } = outboxDeliveryMigration;
