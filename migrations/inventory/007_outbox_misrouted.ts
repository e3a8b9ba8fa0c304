// Records seen on a wrong topic or with a wrong key are remembered on their row: see outboxMisroutedMigration.
import { outboxMisroutedMigration } from '@qtshop/shared/tooling';

export const name = '007_outbox_misrouted';
export const { up, down } = outboxMisroutedMigration;
