// Holding the outbox of one database: the relay's dedicated connection, the session-level advisory lock
// taken on it, the relay's state (disconnected, standby, active, stopped), and a standby's takeover from a
// frozen holder (the heartbeat and the idle-holder check of takeover.ts).
//
// Exactly one relay per database is active: it holds a session-level advisory lock on ONE dedicated
// connection and does every read and update on that connection, so if the connection dies the lock and the
// transaction in flight die with it (the rows stay unsent and the next holder publishes them again:
// at-least-once, consumers dedup by the `id` header). A relay without the lock is a standby and retries
// every interval.
import pg from 'pg';
import type { Logger } from '@qtshop/shared/platform';
import { pgConnection, type Infra } from '@qtshop/shared/infra';
import { endIdleHolder, startHeartbeat } from './takeover';
import type { RelayMetrics } from './metrics';

/** Advisory lock key of "the relay of this outbox"; advisory locks are scoped to the database. */
export const RELAY_LOCK_KEY = '7301160401';
export const RELAY_APPLICATION_NAME = 'qtshop-relay';

export type RelayState = 'disconnected' | 'standby' | 'active' | 'stopped';

export interface OutboxLeaseOptions {
  database: string;
  pg: Infra['pg'];
  /** A standby ends the holder's session after it has been idle this long (frozen, hung); see takeOverFromIdleHolder. */
  takeoverAfterMs: number;
  /** The relay's poll interval (a standby's retry interval) and batch size, for the log lines. */
  intervalMs: number;
  batchSize: number;
  log: Logger;
  metrics: RelayMetrics;
}

export class OutboxLease {
  private client: pg.Client | undefined;
  private lost = false;
  private stopHeartbeat: (() => void) | undefined;
  private current: RelayState = 'disconnected';

  constructor(private readonly opts: OutboxLeaseOptions) {}

  get state(): RelayState {
    return this.current;
  }

  /** True while this relay holds the outbox lock on a sound session. */
  get holding(): boolean {
    return this.current === 'active' && !this.lost;
  }

  /** The session is gone or no longer to be trusted: the next tick disconnects and starts over. */
  get broken(): boolean {
    return this.lost;
  }

  /** Marks the session broken (a failed rollback, a producer fenced by a newer holder). */
  markBroken(): void {
    this.lost = true;
  }

  /** The lock connection, if one is open. */
  get session(): pg.Client | undefined {
    return this.client;
  }

  async connect(): Promise<pg.Client> {
    const client = new pg.Client(pgConnection(this.opts.pg, this.opts.database, RELAY_APPLICATION_NAME));
    // A dead connection means the lock is gone too: mark it, and the next tick starts over.
    const lost = (err?: Error) => {
      if (this.client !== client || this.lost) return;
      this.lost = true;
      this.opts.log.warn({ err }, 'outbox connection lost; the lock went with it');
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    this.lost = false;
    this.stopHeartbeat = startHeartbeat(client, this.opts.takeoverAfterMs, () => this.client === client && this.holding);
    return client;
  }

  /** Tries to take the lock: true makes this relay active; false leaves it a standby (after a takeover, perhaps). */
  async acquire(client: pg.Client): Promise<boolean> {
    const { log } = this.opts;
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [RELAY_LOCK_KEY]);
    if (rows[0]?.locked) {
      log.info({ intervalMs: this.opts.intervalMs, batchSize: this.opts.batchSize }, 'outbox lock acquired; relaying');
      this.setState('active');
      return true;
    }
    if (this.current !== 'standby') log.info({ intervalMs: this.opts.intervalMs }, 'another relay holds the outbox lock; standing by');
    else log.debug('still standing by');
    this.setState('standby');
    await this.takeOverFromIdleHolder(client);
    return false;
  }

  /** A standby ends the holder's session when it has been idle past the bound (a frozen relay): see takeover.ts. */
  private async takeOverFromIdleHolder(client: pg.Client): Promise<void> {
    const ended = await endIdleHolder(client, RELAY_LOCK_KEY, this.opts.takeoverAfterMs, RELAY_APPLICATION_NAME);
    if (!ended) return;
    this.opts.log.warn({ holderPid: ended.pid, idleMs: ended.idleMs }, "ended the outbox lock holder's session, idle too long (frozen or hung); taking over");
    this.opts.metrics.takeovers.inc({ database: this.opts.database });
  }

  /** Releases the lock if this relay holds it on a sound session (on stop). */
  async release(): Promise<void> {
    const client = this.client;
    if (client && this.holding) {
      await client.query('select pg_advisory_unlock($1::bigint)', [RELAY_LOCK_KEY]).catch(() => undefined);
    }
  }

  /**
   * Leaves the session: no longer active nor standby. `meanwhile` (the relay dropping its producer) runs
   * before the connection ends, and the lock with it.
   */
  async disconnect(meanwhile: () => Promise<void>): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.lost = false;
    this.stopHeartbeat?.();
    this.stopHeartbeat = undefined;
    if (this.current === 'active' || this.current === 'standby') this.setState('disconnected');
    await meanwhile();
    await client?.end().catch(() => undefined);
  }

  /** After the relay's stop(): the lock released, the session ended. */
  stopped(): void {
    this.setState('stopped');
  }

  private setState(state: RelayState): void {
    this.current = state;
    this.opts.metrics.active.set({ database: this.opts.database }, state === 'active' ? 1 : 0);
  }
}
