// PostgreSQL access through knex (pg driver). Every service database comes from the same infra settings,
// and every connection gets the same time bounds (pgConnection): no statement, transaction left open or
// vanished peer holds a connection, its locks or the outbox lock for long.
import { SpanKind } from '@opentelemetry/api';
import { ATTR_DB_NAMESPACE, ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL } from '@opentelemetry/semantic-conventions';
import { createRequire } from 'node:module';
import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';
import { PREPARED_MAX_PARAMETERS, type Infra } from './addresses';
import { inSpan } from '../observability/tracing';

export type { Knex };

/** TCP keepalive probes after the idle time (PG_KEEPALIVE_IDLE_S): every 5 s, 3 of them. */
const KEEPALIVE_INTERVAL_S = 5;
const KEEPALIVE_COUNT = 3;

/**
 * Connection settings for `database`, with the time bounds of infra.pg.timeouts: statement_timeout and
 * idle_in_transaction_session_timeout as session settings, a connect timeout, and TCP keepalive on both
 * ends (the client's socket, and the server's tcp_keepalives_*, so that PostgreSQL ends the session of a
 * client that vanished and releases what it held).
 */
export function pgConnection(pgInfra: Infra['pg'], database: string, applicationName?: string): pg.ClientConfig {
  const { host, port, user, password, timeouts: t } = pgInfra;
  const server = [`tcp_keepalives_idle=${t.keepaliveIdleS}`, `tcp_keepalives_interval=${KEEPALIVE_INTERVAL_S}`, `tcp_keepalives_count=${KEEPALIVE_COUNT}`];
  return {
    host,
    port,
    user,
    password,
    database,
    ...(applicationName ? { application_name: applicationName } : {}),
    statement_timeout: t.statementMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    connectionTimeoutMillis: t.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: t.keepaliveIdleS * 1000,
    options: server.map((s) => `-c ${s}`).join(' '),
  };
}

/** A statement that reads or returns `*` (not `count(*)`): its columns are fixed when it is prepared. */
const STAR = /(^|[\s,.])\*(?=[\s,;)]|$)/;

/**
 * The name each statement text is prepared under, for the first `max` distinct texts (undefined for the
 * rest, for a text with `*` and for one with more than PREPARED_MAX_PARAMETERS parameters): names are per
 * knex instance, one text each, so a connection never meets a name under another text.
 */
export function statementNames(max: number): (sql: string, parameters: number) => string | undefined {
  const names = new Map<string, string>();
  return (sql, parameters) => {
    const known = names.get(sql);
    if (known !== undefined || names.size >= max || parameters > PREPARED_MAX_PARAMETERS || STAR.test(sql)) return known;
    const name = `qtshop_${names.size + 1}`;
    names.set(sql, name);
    return name;
  };
}

/**
 * A value pg sends as it is. pg turns any other (an object as JSON, a value with toPostgres) into text
 * first, and when that throws after it parsed a named statement it closes the statement on the server
 * while still counting it as parsed: every later use on that connection would fail.
 */
const PLAIN_TYPES = new Set(['string', 'number', 'boolean', 'bigint']);
const plain = (v: unknown): boolean => v === null || PLAIN_TYPES.has(typeof v) || v instanceof Date || Buffer.isBuffer(v);

/**
 * An error that may leave a named statement unusable on its connection: gone from the server (26000),
 * planned for a table whose columns' types changed since (0A000 "cached plan must not change result
 * type"), or its parameters' types, fixed when it was parsed, no longer fitting the columns they meet
 * (42883 no such operator, 42804 datatype mismatch). knex discards a connection marked `__knex__disposed`
 * when it is next acquired; a statement that is wrong in itself costs a new connection per failure.
 */
const SPOILED = new Set(['26000', '42883', '42804']);
const spoilsStatement = (err: unknown): boolean => {
  const e = err as { code?: string; message?: string };
  return SPOILED.has(e.code ?? '') || (e.code === '0A000' && /cached plan/.test(e.message ?? ''));
};

interface KnexQuery {
  sql: string;
  bindings?: unknown[];
  options?: Record<string, unknown>;
}
type PgDialect = new (config: Knex.Config) => { _query(connection: unknown, obj: KnexQuery): Promise<unknown> };
// knex's PostgreSQL dialect, to extend: knex takes a client class in place of a dialect name.
const PgClient = createRequire(import.meta.url)('knex/lib/dialects/postgres/index.js') as PgDialect;

/**
 * knex's PostgreSQL client, whose statements with parameters run as named prepared statements (pg parses
 * a name's text once per connection; PostgreSQL plans it once when a generic plan is as good, as it is for
 * the key lookups and inserts of the hot paths), saving PostgreSQL the parse and plan of each execution
 * (PG_PREPARED_STATEMENTS; bench/README.md has what it saved). A transaction's client is made from this
 * class's prototype, so its statements are named too. A connection whose statement was spoiled is
 * discarded, so the next one prepares it afresh.
 */
function preparingClient(max: number): PgDialect {
  const nameOf = statementNames(max);
  return class PreparingPgClient extends PgClient {
    override _query(connection: unknown, obj: KnexQuery): Promise<unknown> {
      const bindings = obj.bindings ?? [];
      const name = bindings.length && obj.options?.name === undefined && bindings.every(plain) ? nameOf(obj.sql, bindings.length) : undefined;
      if (!name) return super._query(connection, obj);
      obj.options = { ...obj.options, name };
      return super._query(connection, obj).catch((err: unknown) => {
        if (spoilsStatement(err)) (connection as { __knex__disposed?: unknown }).__knex__disposed = err;
        throw err;
      });
    }
  };
}

/** `applicationName` names the connections in pg_stat_activity (what the benchmarks measure by). */
export function createDb(infra: Infra, database: string, pool: { min?: number; max?: number } = {}, applicationName?: string): Knex {
  const prepared = infra.pg.preparedStatements ?? 0;
  return knexFactory({
    client: prepared > 0 ? (preparingClient(prepared) as unknown as typeof Knex.Client) : 'pg',
    connection: pgConnection(infra.pg, database, applicationName) as Knex.PgConnectionConfig,
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
  });
}

/**
 * Runs `fn` in a transaction of `db`, the one way use cases and the inbox open one: a span `transaction
 * <database>` (a child of the request's or the event's) covers it from BEGIN to COMMIT or ROLLBACK, so the
 * outbox writes inside it (outbox/writer.ts) show under the transaction that committed them.
 */
export function inTransaction<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const database = (db.client.config.connection as { database?: string } | undefined)?.database ?? 'postgres';
  const attributes = { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL, [ATTR_DB_NAMESPACE]: database };
  return inSpan(`transaction ${database}`, { kind: SpanKind.CLIENT, attributes }, () => db.transaction(fn));
}
