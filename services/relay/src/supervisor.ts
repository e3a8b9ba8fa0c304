// Debezium mode: the relay watches its database's connector through Kafka Connect REST and the replication
// slot through pg_replication_slots, exports both as metrics, and answers /ready with the reason while
// something is wrong. The relay holding the database's outbox lock also acts:
// - a connector whose running configuration differs from its committed file (a change made through Connect
//   REST) gets the file put back, unless CONNECT_RESTORE_DRIFT=false: a drifted router sends every event to
//   the wrong topic while the connector reports RUNNING;
// - a FAILED connector or task is restarted, with a backoff that doubles up to a ceiling;
// - a slot PostgreSQL invalidated (wal_status = lost, past max_slot_wal_keep_size) cannot stream again,
//   nor can a FAILED connector whose slot is missing (a failover to a standby without a copy of it): the
//   connector is deleted (offsets reset, slot dropped) and registered afresh; the rows of the gap are
//   published by the repairer, so nothing is lost.
// - a slot made before the connector's file asked for slot.failover (PostgreSQL 17: a standby keeps a copy
//   of a failover slot, so that Debezium resumes on the promoted node) is made a failover slot: the
//   connector is stopped for the moment it takes, the slot altered, the connector resumed.
// A deleted, paused or stopped connector is an operator's decision: reported, not undone (repair carries
// the traffic meanwhile). Undelivered rows whose record the confirmer saw misrouted keep /ready red until
// the repair has published them to their own topic.
import { Loop, waitUntil, type Logger } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { Degraded } from '@qtshop/shared/http';
import {
  CONNECTOR_STATES,
  describeDrift,
  observeOutbox,
  registerConnector,
  removeConnector,
  slotActive,
  type ConfigDifference,
  type ConnectClient,
  type ConnectorConfig,
  type OutboxObservation as Observation,
} from '@qtshop/shared/delivery';
import type { RelayMetrics } from './metrics';

export interface SupervisorOptions {
  database: string;
  db: Knex;
  /** The connector file serving this database; undefined when there is none (nothing to supervise). */
  connector: ConnectorConfig | undefined;
  connect: ConnectClient;
  intervalMs: number;
  /** /ready fails when the oldest unconfirmed row is older than this. */
  readyMaxAgeMs: number;
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  /** Put the committed file back when the running configuration drifted (CONNECT_RESTORE_DRIFT). */
  restoreDrift: boolean;
  /** Makes the slot a failover slot (enableSlotFailover with the relay's connection settings). */
  enableSlotFailover: (slot: string) => Promise<void>;
  /** True while this relay holds the database's outbox lock: only that one restarts or re-creates. */
  isActive: () => boolean;
  log: Logger;
  metrics: RelayMetrics;
}

/** What keeps /ready red, one sentence each. Pure; unit-tested. */
export function problemsOf(o: Observation, readyMaxAgeMs: number, restoreDrift = true): string[] {
  const out: string[] = [];
  const c = o.connector;
  if (c?.drift?.length)
    out.push(
      `connector ${c.name}'s configuration differs from connect-config/${c.name}.json: ${describeDrift(c.drift)}; ${
        restoreDrift ? 'the active relay puts the file back' : `not restored (CONNECT_RESTORE_DRIFT=false): npm run connect -- register ${c.name}`
      }`,
    );
  if (c?.state === 'FAILED') out.push(`connector ${c.name} FAILED (${c.detail ?? 'no detail'}); restarting with backoff, repair publishes meanwhile`);
  if (c?.state === 'MISSING') out.push(`connector ${c.name} is not registered in Kafka Connect (npm run connect -- register); repair publishes meanwhile`);
  if (c?.state === 'UNREACHABLE') out.push(`Kafka Connect is unreachable (${c.detail ?? ''}); repair publishes meanwhile`);
  if (o.slot?.walStatus === 'lost')
    out.push(`replication slot ${o.slot.name} was invalidated (wal_status lost, past max_slot_wal_keep_size); the connector is being re-created`);
  if (o.slot && !o.slot.exists && c?.state === 'FAILED') out.push(`replication slot ${o.slot.name} is missing; the connector is being re-created`);
  if (o.misrouted > 0)
    out.push(
      `${o.misrouted} undelivered outbox row(s) had their record seen on a wrong topic or with a wrong key; the repair publishes them to their own topic`,
    );
  if (o.oldestUnconfirmedS * 1000 > readyMaxAgeMs)
    out.push(`the oldest undelivered outbox row is ${o.oldestUnconfirmedS.toFixed(0)} s old (limit ${readyMaxAgeMs / 1000} s)`);
  return out;
}

export class ConnectorSupervisor {
  private readonly loop: Loop;
  private readonly log: Logger;
  private backoffMs: number;
  private nextRestartAt = 0;
  private lastProblems = '';

  constructor(private readonly opts: SupervisorOptions) {
    this.log = opts.log.child({ database: opts.database, worker: 'supervisor', connector: opts.connector?.name });
    this.backoffMs = opts.restartBackoffMs;
    // Exported at 0 from the start, so that the first restore is an increase to the alert rule.
    if (opts.connector) opts.metrics.connectorRestores.inc({ database: opts.database, connector: opts.connector.name }, 0);
    this.loop = Loop.every(
      opts.intervalMs,
      () => this.tick(),
      (err) => this.failed(err),
    );
  }

  get database(): string {
    return this.opts.database;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** For /ready: throws naming every problem. */
  /** For /ready: throws naming every problem; Degraded while rows are quarantined (the rest flows, a person must look). */
  async ready(): Promise<Degraded | undefined> {
    const o = await this.observe();
    const problems = problemsOf(o, this.opts.readyMaxAgeMs, this.opts.restoreDrift);
    if (problems.length > 0) throw new Error(problems.join('; '));
    return o.quarantined > 0
      ? new Degraded(
          `${o.quarantined} outbox row(s) quarantined: they can never be published as they are (npm run outbox -- quarantined ${this.opts.database}, then retry after a fix)`,
        )
      : undefined;
  }

  observe(): Promise<Observation> {
    return observeOutbox(this.opts.db, this.opts.connect, this.opts.connector);
  }

  /** Observes, exports the metrics and, on the active relay, acts. */
  async tick(): Promise<Observation> {
    const o = await this.observe();
    this.export(o);
    const problems = problemsOf(o, this.opts.readyMaxAgeMs, this.opts.restoreDrift).join('; ');
    if (problems !== this.lastProblems) {
      if (problems) this.log.warn({ problems }, 'outbox delivery degraded');
      else if (this.lastProblems) this.log.info('outbox delivery healthy again');
      this.lastProblems = problems;
    }
    const cfg = this.opts.connector;
    if (!cfg || !o.connector || !this.opts.isActive()) return o;
    if (o.slot?.walStatus === 'lost' && o.connector.state !== 'MISSING' && o.connector.state !== 'UNREACHABLE') {
      await this.recreate(cfg, 'replication slot lost (past max_slot_wal_keep_size)');
    } else if (o.slot && !o.slot.exists && o.connector.state === 'FAILED') {
      await this.recreate(cfg, 'replication slot missing (a failover to a node without a copy of it?): the connector cannot resume from its offsets');
    } else if (o.connector.drift?.length && this.opts.restoreDrift) {
      // Before a restart: a drifted configuration may be why the task failed, and the PUT restarts it anyway.
      await this.restore(cfg, o.connector.drift);
    } else if (o.connector.state === 'FAILED') {
      await this.restart(cfg, o.connector.detail);
    } else if (cfg['slot.failover'] === 'true' && o.slot?.exists && o.slot.failover === false && o.connector.state === 'RUNNING') {
      await this.makeFailoverSlot(cfg, o.slot.name);
    } else if (o.connector.state === 'RUNNING') {
      this.backoffMs = this.opts.restartBackoffMs;
      this.nextRestartAt = 0;
    }
    return o;
  }

  private async restart(cfg: ConnectorConfig, detail: string | undefined): Promise<void> {
    const now = Date.now();
    if (now < this.nextRestartAt) return;
    this.log.warn({ detail, backoffMs: this.backoffMs }, 'connector failed; restarting it');
    this.opts.metrics.connectorRestarts.inc({ database: this.opts.database, connector: cfg.name });
    this.nextRestartAt = now + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.restartBackoffMaxMs);
    await this.opts.connect.restart(cfg.name);
  }

  private async restore(cfg: ConnectorConfig, drift: ConfigDifference[]): Promise<void> {
    this.log.warn(
      { drift, differences: describeDrift(drift) },
      `connector configuration differs from connect-config/${cfg.name}.json (changed through Connect REST?); putting the committed one back`,
    );
    this.opts.metrics.connectorRestores.inc({ database: this.opts.database, connector: cfg.name });
    await this.opts.connect.put(cfg.name, cfg);
  }

  private async makeFailoverSlot(cfg: ConnectorConfig, slot: string): Promise<void> {
    this.log.warn({ slot }, 'replication slot was made without failover, though the connector asks for it; stopping the connector to alter the slot');
    await this.opts.connect.stop(cfg.name);
    try {
      await waitUntil(async () => !(await slotActive(this.opts.db, slot)), { timeoutMs: 60_000, everyMs: 200, what: `slot ${slot} to be released` });
      await this.opts.enableSlotFailover(slot);
      this.opts.metrics.slotFailoverEnabled.inc({ database: this.opts.database, slot });
      this.log.info({ slot }, 'replication slot is a failover slot now; resuming the connector');
    } finally {
      await this.opts.connect.resume(cfg.name);
    }
  }

  private async recreate(cfg: ConnectorConfig, why: string): Promise<void> {
    this.log.error({ slot: cfg['slot.name'] }, `${why}; re-creating the connector, repair covers the gap`);
    this.opts.metrics.connectorRecreated.inc({ database: this.opts.database, connector: cfg.name });
    await removeConnector(this.opts.connect, this.opts.db, cfg);
    await registerConnector(this.opts.connect, this.opts.db, cfg);
    this.backoffMs = this.opts.restartBackoffMs;
    this.log.info({ slot: cfg['slot.name'] }, 'connector re-created with a new replication slot');
  }

  private export(o: Observation): void {
    const { metrics, database } = this.opts;
    metrics.oldestUnconfirmedAge.set({ database }, o.oldestUnconfirmedS);
    metrics.quarantinedRows.set({ database }, o.quarantined);
    metrics.unconfirmedRows.set({ database }, o.unconfirmed);
    if (o.connector) {
      const connector = o.connector.name;
      for (const s of CONNECTOR_STATES) metrics.connectorState.set({ database, connector, state: s }, s === o.connector.state ? 1 : 0);
      // Unknown while Connect does not answer: the last value stands.
      if (o.connector.drift) metrics.connectorDrift.set({ database, connector }, o.connector.drift.length > 0 ? 1 : 0);
      else if (o.connector.state === 'MISSING') metrics.connectorDrift.set({ database, connector }, 0);
    }
    if (o.slot) {
      metrics.slotRetainedWal.set({ database, slot: o.slot.name }, o.slot.retainedBytes);
      metrics.slotActive.set({ database, slot: o.slot.name }, o.slot.active ? 1 : 0);
    }
  }

  private failed(err: unknown): void {
    this.log.warn({ err }, 'supervision failed; retrying next interval');
    this.opts.metrics.errors.inc({ database: this.opts.database });
    this.opts.metrics.lastErrorTime.setToCurrentTime({ database: this.opts.database });
  }
}
