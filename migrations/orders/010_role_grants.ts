// Least privilege: only the roles of DATABASE_ACCESS.orders connect here, each with its own rights
// (docs/security.md "PostgreSQL roles"). See grantDatabaseAccess; the roles' LOGIN and passwords are the operator's.
import { DATABASE_ACCESS, databaseAccessMigration } from '@qtshop/shared/tooling';

export const name = '010_role_grants';
export const { up, down } = databaseAccessMigration(DATABASE_ACCESS.orders);
