// Test helpers for the relay suites: scratch outbox databases and hand-written outbox rows.
import { randomUUID } from 'node:crypto';
import { infraFrom, loadInfra, type Knex } from '@qtshop/shared/infra';
import { traceparentFrom } from '@qtshop/shared/observability';
import { addOutboxDelivery, addOutboxMisrouted, createOutboxTable, grantDatabaseAccess } from '@qtshop/shared/tooling';
import { scratchDb, type ScratchDb } from '../support/scratch';
import { loadRelayConfig, type RelayConfig } from '../../services/relay/src/config';

export const infra = loadInfra();

export const suffix = (): string => randomUUID().replace(/-/g, '').slice(0, 12);

export type Scratch = ScratchDb;

/**
 * A fresh database `relay_<random>` with the outbox table (no aggregate-type check, no publication), which
 * the relay and Debezium may use as in an outbox database of the shop (the test itself is the superuser);
 * drop() removes it, connections and all.
 */
export async function scratchDatabase(): Promise<Scratch> {
  const scratch = await scratchDb('relay');
  await createOutboxTable(scratch.db);
  await addOutboxDelivery(scratch.db);
  await addOutboxMisrouted(scratch.db);
  await grantDatabaseAccess(scratch.db, { outbox: true });
  return scratch;
}

export interface TestRow {
  id: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: string;
  traceparent: string | null;
}

/** `n` rows shaped like the outbox writer's, for an aggregate type of the test's own (so a topic of its own). */
export function rows(aggregatetype: string, n: number, aggregates: string[], type = 'RelayTestHappened'): TestRow[] {
  return Array.from({ length: n }, (_, seq) => {
    const aggregateid = aggregates[seq % aggregates.length]!;
    return { id: randomUUID(), aggregatetype, aggregateid, type, payload: JSON.stringify({ aggregateid, seq }), traceparent: traceparentFrom() };
  });
}

export async function insertRows(db: Knex, list: TestRow[]): Promise<void> {
  await db.transaction(async (trx) => {
    for (let i = 0; i < list.length; i += 1000) await trx('outbox').insert(list.slice(i, i + 1000));
  });
}

/** Who the relay is to PostgreSQL (its role, as loadRelayConfig says): a session standing for a relay must be its. */
export const relayPg = (): typeof infra.pg => infraFrom(loadRelayConfig()).pg;

export function relayConfig(database: string, overrides: Partial<RelayConfig> = {}): RelayConfig {
  // A confirm group of the test's own: a shared one would commit offsets past records of rows it does not hold.
  return {
    ...loadRelayConfig(),
    RELAY_PORT: 0,
    RELAY_MODE: 'polling',
    OUTBOX_DATABASES: [database],
    OUTBOX_POLL_INTERVAL_MS: 100,
    RELAY_CONFIRM_GROUP: `qtshop-relay-confirm-test-${suffix()}`,
    ...overrides,
  };
}
