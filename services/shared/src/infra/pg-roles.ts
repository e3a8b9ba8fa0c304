// Who a PostgreSQL client is: every service logs in as a role of its own with rights on its own database
// only, the relay as `relay` (the outbox tables), Debezium as `debezium` (REPLICATION, SELECT on the outbox
// tables), and only the stack, the migrations and the operator's tools as the superuser. The migrations
// grant what each role may do (tooling/pg-grants.ts); who creates the roles and gives them LOGIN and a
// password is the operator's (the local stack, the compose files, docs/security.md "PostgreSQL roles").
import { ConfigError, env, type Setting } from '../platform/config';
import { devPassword } from './credentials';

/** The superuser of the stack's cluster: the stack, the migrations and the operator's tools (npm run ...). */
export const PG_SUPERUSER = 'postgres';

/** The role of each service that owns a PostgreSQL database (basket keeps its state in MongoDB). */
export const PG_SERVICE_ROLES = ['catalog', 'inventory', 'order_command', 'order_query'] as const;
export type PgServiceRole = (typeof PG_SERVICE_ROLES)[number];

/** Every role of the shop, the superuser apart; `relay` and `debezium` also have the REPLICATION attribute. */
export const PG_ROLES = [...PG_SERVICE_ROLES, 'relay', 'debezium'] as const;
export type PgRole = (typeof PG_ROLES)[number];

/** The roles that need REPLICATION: Debezium streams from a slot, the relay drops a lost one (docs/security.md "PostgreSQL roles"). */
export const PG_REPLICATION_ROLES: readonly PgRole[] = ['relay', 'debezium'];

/**
 * The development password of a PostgreSQL role, which the local stack gives it: `<role>-dev-password`,
 * and `postgres` for the superuser (the stack's and the compose files' initdb). NODE_ENV=production
 * refuses it.
 */
export const pgDevPassword = (user: string): string => (user === PG_SUPERUSER ? 'postgres' : devPassword(user));

export const pgAuthSettings = {
  PG_USER: {
    doc: 'PostgreSQL role of this process: each service defaults to its own (`catalog`, `inventory`, `order_command`, `order_query`), the relay to `relay`, the stack and the npm run tools (migrations included) to the superuser `postgres`; the migrations grant each role its rights (docs/security.md, PostgreSQL roles)',
    default: PG_SUPERUSER,
    schema: env.string(),
  },
  PG_PASSWORD: {
    doc: "Password of PG_USER; unset, the role's development password, which the local stack gives it: `<PG_USER>-dev-password`, or `postgres` for the superuser `postgres`. NODE_ENV=production refuses a development password",
    default: '',
    schema: env.string().optional(),
  },
} satisfies Record<string, Setting>;

const refusal = (user: string) => `is the development password of ${user}; set PG_PASSWORD to a secret of your own`;

/**
 * The settings of a process whose PostgreSQL role defaults to `role` (a service, the relay): with
 * NODE_ENV=production it refuses to start with PG_PASSWORD unset or set to the role's development password.
 */
export const pgRoleSettings = (role: PgRole) => ({
  PG_USER: { ...pgAuthSettings.PG_USER, default: role } satisfies Setting,
  PG_PASSWORD: {
    ...pgAuthSettings.PG_PASSWORD,
    devDefault: true,
    production: (value: string, e: NodeJS.ProcessEnv) => {
      const user = e.PG_USER || role;
      return value === pgDevPassword(user) ? refusal(user) : undefined;
    },
  } satisfies Setting,
});

/** The password a process presents: PG_PASSWORD, or PG_USER's development password when unset. */
export const pgPasswordOf = (c: { PG_USER: string; PG_PASSWORD?: string | undefined }): string => c.PG_PASSWORD ?? pgDevPassword(c.PG_USER);

/**
 * With NODE_ENV=production, refuses the development password of `user` (the tools' check: a service's
 * settings refuse it when they are loaded, see pgRoleSettings).
 */
export function refusePgDevPassword(pg: { user: string; password: string }, e: NodeJS.ProcessEnv = process.env): void {
  if (e.NODE_ENV === 'production' && pg.password === pgDevPassword(pg.user))
    throw new ConfigError('PG_PASSWORD', `${refusal(pg.user)} (NODE_ENV=production refuses development defaults)`);
}

/** What Kafka Connect's Debezium connectors log in as: connect-config/*.json read them from the worker's environment. */
export const debeziumPgSettings = {
  DEBEZIUM_PG_USER: {
    doc: "PostgreSQL role of the Debezium connectors, in Kafka Connect's environment (connect-config/*.json say `${env:DEBEZIUM_PG_USER}`): LOGIN REPLICATION, and SELECT on the outbox tables only (the migrations grant it to `debezium`; another role must be a member of it)",
    default: 'debezium',
    schema: env.string(),
  },
  DEBEZIUM_PG_PASSWORD: {
    doc: "Password of DEBEZIUM_PG_USER, in Kafka Connect's environment; the local stack gives the role this password. Nothing refuses this default (Kafka Connect reads it): set a secret of your own outside development",
    default: devPassword('debezium'),
    schema: env.string(),
  },
} satisfies Record<string, Setting>;
