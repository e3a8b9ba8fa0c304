// What one outbox database's delivery looks like right now: its Debezium connector's state (Kafka Connect
// REST) and whether its configuration drifted from the committed file, its replication slot
// (pg_replication_slots), the age of its oldest undelivered row, the undelivered rows whose record was seen
// misrouted, and its quarantined rows. The relay's supervisor exports it as metrics and acts on it; `npm run status` prints it.
import type { Knex } from 'knex';
import { ConnectError, type ConnectClient } from './connect';
import type { ConnectorConfig } from './connector-files';
import { configDrift, type ConfigDifference } from './connector-drift';
import { OUTBOX_TABLE } from '../outbox/writer';

export const CONNECTOR_STATES = ['RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'UNASSIGNED', 'RESTARTING', 'MISSING', 'UNREACHABLE'] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];

export interface OutboxObservation {
  /** `drift`: how the running configuration differs from the committed file; absent when Connect could not say. */
  connector?: { name: string; state: ConnectorState; detail?: string; drift?: ConfigDifference[] };
  /** failover: created for failover (PostgreSQL 17's failover slots; null on an older server). */
  slot?: { name: string; exists: boolean; active: boolean; walStatus: string | null; retainedBytes: number; failover: boolean | null };
  /** Rows not on Kafka yet (quarantined rows excluded): unsent (polling) or unconfirmed (debezium mode). */
  unconfirmed: number;
  /** Age of the oldest of them, seconds; 0 when none. */
  oldestUnconfirmedS: number;
  /** Of those, rows whose record the confirmer saw on a wrong topic or with a wrong key (`misrouted_at`). */
  misrouted: number;
  quarantined: number;
}

/** The worse of the connector's and its tasks' states, with the first line of a failure's trace. */
export function connectorStateOf(status: { connector: { state: string; trace?: string }; tasks: Array<{ id: number; state: string; trace?: string }> }): {
  state: ConnectorState;
  detail?: string;
} {
  const failedTask = status.tasks.find((t) => t.state === 'FAILED');
  if (status.connector.state === 'FAILED') return { state: 'FAILED', detail: `connector failed: ${status.connector.trace?.split('\n')[0] ?? 'no trace'}` };
  if (failedTask) return { state: 'FAILED', detail: `task ${failedTask.id} failed: ${failedTask.trace?.split('\n')[0] ?? 'no trace'}` };
  const state = (CONNECTOR_STATES as readonly string[]).includes(status.connector.state) ? (status.connector.state as ConnectorState) : 'UNASSIGNED';
  if (state === 'RUNNING' && status.tasks.length === 0) return { state: 'UNASSIGNED', detail: 'no task is running' };
  const notRunning = status.tasks.find((t) => t.state !== 'RUNNING');
  if (state === 'RUNNING' && notRunning) return { state: notRunning.state as ConnectorState, detail: `task ${notRunning.id} is ${notRunning.state}` };
  return { state };
}

/** The connector's state; MISSING when Kafka Connect does not know it, UNREACHABLE when Connect does not answer. */
export async function observeConnector(connect: ConnectClient, name: string): Promise<{ state: ConnectorState; detail?: string }> {
  try {
    return connectorStateOf(await connect.status(name));
  } catch (err) {
    if (err instanceof ConnectError && err.status === 404) return { state: 'MISSING' };
    return { state: 'UNREACHABLE', detail: (err as Error).message };
  }
}

/** How the running connector's configuration differs from `committed`; undefined when Connect does not answer. */
export async function observeDrift(connect: ConnectClient, committed: ConnectorConfig): Promise<ConfigDifference[] | undefined> {
  try {
    return configDrift(committed, await connect.config(committed.name));
  } catch {
    return undefined; // deleted since its status was read, or Connect went away: the state says which
  }
}

/** Observes the outbox of `db`; with a connector file, also that connector and its replication slot. */
export async function observeOutbox(db: Knex, connect: ConnectClient, connector: ConnectorConfig | undefined): Promise<OutboxObservation> {
  const [age, quarantined] = await Promise.all([
    db.raw<{ rows: Array<{ n: string; misrouted: string; age: number | null }> }>(
      `select count(*) as n, count(*) filter (where misrouted_at is not null) as misrouted, extract(epoch from now() - min(created_at))::float8 as age
        from ${OUTBOX_TABLE} where sent_at is null and quarantined_at is null`,
    ),
    db(OUTBOX_TABLE).whereNotNull('quarantined_at').count<Array<{ n: string }>>({ n: '*' }),
  ]);
  const o: OutboxObservation = {
    unconfirmed: Number(age.rows[0]?.n ?? 0),
    oldestUnconfirmedS: Math.max(0, age.rows[0]?.age ?? 0),
    misrouted: Number(age.rows[0]?.misrouted ?? 0),
    quarantined: Number(quarantined[0]?.n ?? 0),
  };
  if (connector) {
    const state = await observeConnector(connect, connector.name);
    const drift = state.state === 'MISSING' || state.state === 'UNREACHABLE' ? undefined : await observeDrift(connect, connector);
    o.connector = { name: connector.name, ...state, ...(drift ? { drift } : {}) };
    const slotName = connector['slot.name'];
    if (slotName) {
      // failover through to_jsonb: the column exists from PostgreSQL 17 on.
      const { rows } = await db.raw<{ rows: Array<{ active: boolean; wal_status: string | null; retained: string | null; failover: boolean | null }> }>(
        `select active, wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint as retained, (to_jsonb(s) ->> 'failover')::boolean as failover
           from pg_replication_slots s where slot_name = ?`,
        [slotName],
      );
      const r = rows[0];
      o.slot = {
        name: slotName,
        exists: r !== undefined,
        active: r?.active ?? false,
        walStatus: r?.wal_status ?? null,
        retainedBytes: Number(r?.retained ?? 0),
        failover: r?.failover ?? null,
      };
    }
  }
  return o;
}
