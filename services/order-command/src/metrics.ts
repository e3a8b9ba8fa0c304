// Order-command's own gauges: the orders waiting for their stock decision, measured when Prometheus
// scrapes /metrics (one query over pending_orders, store.ts), so nothing runs between scrapes.
import { Gauge, type Metric } from 'prom-client';
import type { Logger } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { pendingOrders, type PendingOrders } from './store';

export function pendingOrderGauges(db: Knex, log: Logger): Metric[] {
  // Both gauges are collected concurrently on a scrape; they share one query.
  let inFlight: Promise<PendingOrders | undefined> | undefined;
  const measure = () =>
    (inFlight ??= pendingOrders(db)
      .catch((err: unknown) => {
        // NaN rather than the last value: a number that is not current would look current. /ready's database
        // check says why.
        log.warn({ err }, 'pending orders not measured');
        return undefined;
      })
      .finally(() => (inFlight = undefined)));
  const pending = new Gauge({
    name: 'orders_pending',
    help: 'orders placed whose stock decision (OrderConfirmed or OrderRejected) has not been appended yet; NaN when not measurable',
    registers: [],
    async collect() {
      this.set((await measure())?.pending ?? Number.NaN);
    },
  });
  const oldest = new Gauge({
    name: 'orders_oldest_pending_age_seconds',
    help: 'age of the oldest order waiting for its stock decision; 0 when none, NaN when not measurable',
    registers: [],
    async collect() {
      this.set((await measure())?.oldestPendingS ?? Number.NaN);
    },
  });
  return [pending, oldest];
}
