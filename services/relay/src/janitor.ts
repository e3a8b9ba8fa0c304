// Debezium mode: Debezium reads the INSERTs from the WAL, so the outbox rows themselves are only needed
// until then; the janitor deletes rows older than the retention in bounded batches (the connector
// drops DELETEs: tombstones.on.delete=false, and the EventRouter skips them).
import { OUTBOX_TABLE, type Knex, type Logger } from '@qtshop/shared';
import { Loop } from './loop';
import type { RelayMetrics } from './metrics';

export const JANITOR_BATCH = 10_000;

/** Calls `deleteBatch(limit)` until it deletes fewer than `limit` rows; returns the total deleted. */
export async function deleteInBatches(deleteBatch: (limit: number) => Promise<number>, limit: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteBatch(limit);
    total += n;
    if (n < limit) return total;
  }
}

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
    this.loop = new Loop(
      async () => {
        await this.runOnce();
        return false;
      },
      opts.intervalMs,
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
    if (deleted > 0) this.log.info({ deleted, retentionMs }, 'deleted old outbox rows');
    else this.log.debug({ retentionMs }, 'no old outbox rows');
    return deleted;
  }

  private async deleteBatch(limit: number): Promise<number> {
    const res = await this.opts.db.raw<{ rowCount: number | null }>(
      `delete from ?? where id in (select id from ?? where created_at < now() - make_interval(secs => ?::double precision) order by created_at limit ?)`,
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
