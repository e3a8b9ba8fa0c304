// The inbox is pruned past INBOX_RETENTION_MS by processed_at: see inboxRetentionMigration.
import { inboxRetentionMigration } from '@qtshop/shared/tooling';

export const name = '005_inbox_retention';
export const { up, down } = inboxRetentionMigration;
