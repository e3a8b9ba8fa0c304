// Retention: a delivered outbox row (sent_at set: published by the relay, or seen on Kafka by its
// confirmer) is kept for OUTBOX_RETENTION_MS, then deleted in bounded batches. Undelivered and quarantined
// rows are never deleted: repair and `npm run outbox -- retry` still need them. The publication carries
// INSERTs only, so Debezium never sees these deletes.
import { Loop, type Logger } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { OUTBOX_TABLE } from '@qtshop/shared/outbox';
import { deleteInBatches } from '@qtshop/shared/messaging';
import type { RelayMetrics } from './metrics';

export const JANITOR_BATCH = 10_000;

export interface JanitorOptions {
  database: string;
  db: Knex;
  retentionMs: number;
  intervalMs: number;
  batchSize?: number;
  log: Logger;
  metrics: RelayMetrics;
}

export class Janitor {
  private readonly loop: Loop;
  private readonly log: Logger;
  private lastError: string | undefined;

  constructor(private readonly opts: JanitorOptions) {
    this.log = opts.log.child({ database: opts.database, worker: 'janitor' });
    this.loop = Loop.every(
      opts.intervalMs,
      () => this.runOnce(),
      (err) => this.failed(err),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Deletes every row older than the retention; returns how many. */
  async runOnce(): Promise<number> {
    const { database, retentionMs } = this.opts;
    const deleted = await deleteInBatches((limit) => this.deleteBatch(limit), this.opts.batchSize ?? JANITOR_BATCH);
    this.opts.metrics.deleted.inc({ database }, deleted);
    this.lastError = undefined;
    if (deleted > 0) this.log.info({ deleted, retentionMs }, 'deleted delivered outbox rows past the retention');
    else this.log.debug({ retentionMs }, 'no delivered outbox rows past the retention');
    return deleted;
  }

  private async deleteBatch(limit: number): Promise<number> {
    const res = await this.opts.db.raw<{ rowCount: number | null }>(
      `delete from ?? where id in (select id from ?? where sent_at is not null and created_at < now() - make_interval(secs => ?::double precision) order by created_at limit ?)`,
      [OUTBOX_TABLE, OUTBOX_TABLE, this.opts.retentionMs / 1000, limit],
    );
    return res.rowCount ?? 0;
  }

  private failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (message !== this.lastError) this.log.error({ err }, 'outbox cleanup failed; retrying next interval');
    else this.log.debug({ err }, 'outbox cleanup failed again');
    this.lastError = message;
    this.opts.metrics.errors.inc({ database: this.opts.database });
    this.opts.metrics.lastErrorTime.setToCurrentTime({ database: this.opts.database });
  }
}
