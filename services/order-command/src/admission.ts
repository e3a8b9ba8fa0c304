// Admission of new orders under overload. Offered more orders than the pipeline can confirm, order-command
// refuses the excess at once (503 `overloaded`, Retry-After) instead of queueing it behind a backlog that
// would make every accepted order late. The signal is the pipeline's own backlog: the age of the
// ORDER_ADMISSION_LATE_ORDERS-th oldest order still waiting for its stock decision (pending_orders), sampled
// every ORDER_ADMISSION_SAMPLE_MS, one query at a time, so a refusal is decided from memory.
//
// The rule: the gate closes when that age is over ORDER_ADMISSION_MAX_PENDING_AGE_MS, and opens again once
// it is at most half of it (hysteresis: a backlog hovering around the limit does not flap it). Counting the
// N-th oldest rather than the oldest keeps a few stuck orders (their OrderPlaced dead-lettered, waiting for
// the decision deadline) from closing the shop. A sample that fails (the database away) opens the gate: an
// unmeasured backlog is no reason to refuse, and the requests then meet the real failure (503
// `unavailable`). 0 turns the gate off: nothing is sampled and nothing refused.
import { Counter, Gauge, type Metric } from 'prom-client';
import { AppError, Degraded } from '@qtshop/shared/http';
import { Loop, type Logger } from '@qtshop/shared/platform';

/** How long a client refused with 503 `overloaded` is told to wait (Retry-After, seconds). */
export const OVERLOADED_RETRY_AFTER_S = 1;

export interface AdmissionOptions {
  /** ORDER_ADMISSION_MAX_PENDING_AGE_MS: the gate closes above it, opens at half of it; 0 turns it off. */
  maxAgeMs: number;
  /** ORDER_ADMISSION_LATE_ORDERS: the rank of the pending order whose age is the signal (1: the oldest). */
  lateOrders: number;
  /** ORDER_ADMISSION_SAMPLE_MS: the pause between the end of one sample and the start of the next. */
  sampleMs: number;
  /** The signal: seconds the `lateOrders`-th oldest pending order has waited (0 when fewer wait); rejects when it cannot be measured. */
  measure: () => Promise<number>;
  log: Logger;
  /** The clock, for how long the gate stayed closed (tests); Date.now by default. */
  now?: () => number;
}

export class OrderAdmission {
  private readonly closedGauge = new Gauge({
    name: 'orders_admission_closed',
    help: 'new orders (POST /orders) are refused with 503 overloaded while 1: the pending-order backlog is over ORDER_ADMISSION_MAX_PENDING_AGE_MS',
    registers: [],
  });
  private readonly ageGauge = new Gauge({
    name: 'orders_admission_pending_age_seconds',
    help: 'the signal admission last sampled: seconds the ORDER_ADMISSION_LATE_ORDERS-th oldest pending order had waited (0 when fewer wait); NaN when not measured or off',
    registers: [],
  });
  private readonly refused = new Counter({
    name: 'orders_admission_refused_total',
    help: 'POST /orders answered 503 overloaded because the pending-order backlog was over ORDER_ADMISSION_MAX_PENDING_AGE_MS',
    registers: [],
  });
  readonly metrics: Metric[] = [this.closedGauge, this.ageGauge, this.refused];
  private readonly loop: Loop | undefined;
  private readonly now: () => number;
  private isClosed = false;
  private closedAt = 0;
  private refusedWhileClosed = 0;
  /** The last sampled signal in seconds; undefined before the first sample and after a failed one. */
  private ageS: number | undefined;
  private failing = false;

  constructor(private readonly opts: AdmissionOptions) {
    this.now = opts.now ?? Date.now;
    this.ageGauge.set(Number.NaN);
    this.closedGauge.set(0);
    // The next sample starts sampleMs after the last one ended, so samples never overlap however slow the database is.
    this.loop = this.enabled
      ? Loop.every(
          opts.sampleMs,
          () => this.sample(),
          () => undefined,
        )
      : undefined;
  }

  /** False with ORDER_ADMISSION_MAX_PENDING_AGE_MS=0: never samples, never refuses. */
  get enabled(): boolean {
    return this.opts.maxAgeMs > 0;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  start(): void {
    this.loop?.start();
  }

  stop(): Promise<void> {
    return this.loop?.stop() ?? Promise.resolve();
  }

  /** One sample: measures the backlog and opens or closes the gate. Never rejects. */
  async sample(): Promise<void> {
    let ageS: number;
    try {
      ageS = await this.opts.measure();
    } catch (err) {
      this.ageS = undefined;
      this.ageGauge.set(Number.NaN);
      if (!this.failing) this.opts.log.warn({ err }, 'order admission: the pending-order backlog cannot be measured; new orders are not refused meanwhile');
      this.failing = true;
      if (this.isClosed) this.open('the backlog cannot be measured');
      return;
    }
    if (this.failing) this.opts.log.info({ ageS }, 'order admission: the pending-order backlog is measured again');
    this.failing = false;
    this.observe(ageS);
  }

  /** Opens or closes the gate for a signal of `ageS` seconds (the rule in the header). */
  observe(ageS: number): void {
    this.ageS = ageS;
    this.ageGauge.set(ageS);
    const ageMs = ageS * 1000;
    if (!this.isClosed && ageMs > this.opts.maxAgeMs) this.close(ageS);
    else if (this.isClosed && ageMs <= this.opts.maxAgeMs / 2) this.open('the backlog is back under half the limit');
  }

  /**
   * POST /orders's admission, from memory: throws the 503 `overloaded` AppError, with Retry-After set
   * through `setHeader`, while the gate is closed.
   */
  admit(setHeader: (name: string, value: string) => void): void {
    if (!this.isClosed) return;
    this.refused.inc();
    this.refusedWhileClosed += 1;
    setHeader('Retry-After', String(OVERLOADED_RETRY_AFTER_S));
    throw new AppError(
      503,
      'overloaded',
      `the shop is taking more orders than it can confirm in time (orders wait longer than ${this.opts.maxAgeMs} ms for their stock decision); nothing was placed, retry shortly`,
    );
  }

  /** /ready's `admission` check: a degraded note while refusing (overload is the service doing its job, not a failure). */
  readiness(): Degraded | undefined {
    if (!this.isClosed) return undefined;
    const age = this.ageS === undefined ? 'unmeasured' : `${this.ageS.toFixed(1)} s`;
    return new Degraded(
      `refusing new orders (503 overloaded): pending order #${this.opts.lateOrders} by age has waited ${age}, over ORDER_ADMISSION_MAX_PENDING_AGE_MS (${this.opts.maxAgeMs} ms)`,
    );
  }

  private close(ageS: number): void {
    this.isClosed = true;
    this.closedAt = this.now();
    this.refusedWhileClosed = 0;
    this.closedGauge.set(1);
    this.opts.log.warn(
      { ageS, maxAgeMs: this.opts.maxAgeMs, lateOrders: this.opts.lateOrders },
      'order admission closed: the pending-order backlog is over ORDER_ADMISSION_MAX_PENDING_AGE_MS; new orders are refused with 503 overloaded',
    );
  }

  private open(why: string): void {
    this.isClosed = false;
    this.closedGauge.set(0);
    this.opts.log.info(
      { ageS: this.ageS ?? null, closedForMs: this.now() - this.closedAt, refused: this.refusedWhileClosed },
      `order admission open: new orders are accepted again (${why})`,
    );
  }
}
