// The inbox records each event's aggregate, version and outcome: see inboxAuditMigration.
import { inboxAuditMigration } from '@qtshop/shared/tooling';

export const name = '004_inbox_audit';
export const { up, down } = inboxAuditMigration;
