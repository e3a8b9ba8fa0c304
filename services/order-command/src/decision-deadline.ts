// The decision deadline: an order whose stock decision has not come ORDER_DECISION_TIMEOUT_MS after it was
// placed (inventory down, OrderPlaced dead-lettered) is rejected with reason decision_timeout, so that no
// order stays Pending for ever. Every ORDER_DECISION_SWEEP_INTERVAL_MS a sweep takes the overdue orders
// from pending_orders (kept by a trigger on the stream, so the sweep survives restarts) and rejects each in
// one transaction. Every replica sweeps: the rows are locked with SKIP LOCKED, so an order is rejected by
// one sweep only, and a stock outcome appended meanwhile makes the rejection a version conflict, retried
// on the stream as it now is (a decided order appends nothing). A reservation inventory makes later is
// released when it sees the OrderRejected (inventory's consumer).
import { Counter, type Metric } from 'prom-client';
import { Loop, type Logger } from '@qtshop/shared/platform';
import { inTransaction, type Knex } from '@qtshop/shared/infra';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { execute } from './domain/use-cases';
import { overduePendingOrders } from './store';

/** Orders one sweep transaction rejects at most; a full batch is followed by another at once. */
const SWEEP_BATCH = 100;

export const DECISION_TIMEOUT_REASON = 'decision_timeout';

export class DecisionDeadline {
  private readonly rejected = new Counter({
    name: 'orders_decision_timeouts_total',
    help: 'orders rejected because their stock decision did not come within ORDER_DECISION_TIMEOUT_MS',
    registers: [],
  });
  readonly metrics: Metric[] = [this.rejected];
  private readonly loop: Loop;

  constructor(private readonly opts: { db: Knex; outbox: OutboxWriter; timeoutMs: number; intervalMs: number; log: Logger }) {
    this.loop = new Loop(
      () => this.sweep(),
      opts.intervalMs,
      (err) => opts.log.warn({ err }, 'decision-deadline sweep failed; retrying at the next interval'),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Rejects up to SWEEP_BATCH overdue orders; true when there may be more. */
  async sweep(): Promise<boolean> {
    const { db, outbox, timeoutMs, log } = this.opts;
    const rejected = await inTransaction(db, async (trx) => {
      const ids = await overduePendingOrders(trx, timeoutMs, SWEEP_BATCH);
      const done: string[] = [];
      for (const orderId of ids) {
        const { appended } = await execute(trx, outbox, { type: 'RejectOrder', orderId, reason: DECISION_TIMEOUT_REASON });
        if (appended.length > 0) done.push(orderId);
      }
      return { found: ids.length, done };
    });
    for (const orderId of rejected.done) log.warn({ orderId, timeoutMs }, 'order rejected: no stock decision within ORDER_DECISION_TIMEOUT_MS');
    this.rejected.inc(rejected.done.length);
    return rejected.found === SWEEP_BATCH;
  }
}
