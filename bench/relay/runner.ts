// The runs every relay goes through, the same way for each: warm-up, one steady run per rate, then the
// drain of a backlog. Everything a run needs comes in its RunnerContext; what it yields goes to ctx.runs
// and ctx.notes.
import { fileURLToPath } from 'node:url';
import type { Infra } from '@qtshop/shared/infra';
import { runPgbench } from '../lib/pgbench';
import type { Progress } from '../lib/progress';
import { fmt, summarize } from '../lib/stats';
import type { RelayAdapter, RelaySetup } from './adapter';
import type { RelayBenchOptions } from './options';
import type { DbCost, RunResult } from './results';
import { now, sleep, type RunState, type Tracker } from './tracker';
import { eventFactory, openLoop } from './writers';

/** The progress line: the phase, the run being written and how many runs are done out of `plan`. */
export class Status {
  phase = 'setup';
  live: RunState | undefined;
  done = 0;

  constructor(
    private readonly progress: Progress,
    private readonly plan: number,
    private readonly t0: number,
  ) {}

  update(force = false): void {
    const el = ((now() - this.t0) / 1000).toFixed(0);
    const live = this.live;
    const dup = live?.duplicated ? ` dup ${live.duplicated}` : '';
    const r = live ? ` sent ${live.sent.toLocaleString('en-US')} recv ${live.received.toLocaleString('en-US')}${dup}` : '';
    this.progress.update(`relay bench ${el}s [${Math.min(this.done + 1, this.plan)}/${this.plan}] ${this.phase}${r}`, force);
  }
}

export interface RunnerContext {
  opts: RelayBenchOptions;
  infra: Infra;
  tracker: Tracker;
  /** Writes k events in one transaction through the outbox writer (the drains' backlog). */
  write: (run: RunState, k: number) => Promise<void>;
  status: Status;
  progress: Progress;
  runs: RunResult[];
  notes: string[];
  signal?: AbortSignal | undefined;
}

/** Runs one configuration of a relay from its start to its close. */
export async function runSetup(ctx: RunnerContext, adapter: RelayAdapter, setup: RelaySetup): Promise<void> {
  let completed = false;
  try {
    await setup.start();
    await warmUp(ctx, setup);
    for (const rate of ctx.opts.rates) await steadyRun(ctx, adapter, setup, rate);
    if (ctx.opts.backlog > 0) {
      await setup.stop();
      await drainRun(ctx, adapter, setup);
    }
    completed = true;
  } finally {
    await setup.close().catch((err: unknown) => {
      if (completed) throw err;
      ctx.progress.note(`could not clean up after ${setup.label}: ${String(err)}`);
    });
  }
}

const newRun = (ctx: RunnerContext, label: string) => {
  const run = ctx.tracker.newRun(label);
  ctx.status.live = run;
  return run;
};

async function waitReceived(ctx: RunnerContext, run: RunState, timeoutMs: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (run.received < run.sent) {
    ctx.signal?.throwIfAborted();
    const failed = ctx.tracker.consumerFailure();
    if (failed) throw failed;
    if (now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

async function warmUp(ctx: RunnerContext, setup: RelaySetup): Promise<void> {
  if (ctx.opts.warmup <= 0) return;
  ctx.status.phase = `${setup.label}: warm-up`;
  const run = newRun(ctx, 'warm-up');
  for (let i = 0; i < ctx.opts.warmup; i++) await setup.steady.send(run, 1);
  if (!(await waitReceived(ctx, run, setup.warmUpTimeoutMs))) {
    throw new Error(`${setup.label}: warm-up events did not arrive within ${setup.warmUpTimeoutMs} ms (${run.received}/${run.sent})`);
  }
}

/** A steady rate against the running relay; `settleMs` bounds the wait for the last records. */
async function steadyRun(ctx: RunnerContext, adapter: RelayAdapter, setup: RelaySetup, rate: number): Promise<void> {
  const scenario = `${setup.label} @ ${rate}/s`;
  ctx.status.phase = `${scenario}: writing`;
  const run = newRun(ctx, scenario);
  const closeCost = await setup.cost(false);
  const timing = ctx.opts.writer === 'pgbench' && adapter.backlogInOutbox ? await pgbenchWrite(ctx, run, rate) : await nodeWrite(ctx, setup, run, rate);
  await setup.steady.flush?.();
  ctx.status.phase = `${scenario}: waiting for the last records`;
  const complete = await waitReceived(ctx, run, setup.settleMs);
  ctx.tracker.adopting = undefined;
  const cost = await closeCost(run.received);
  const base = { scenario, relay: adapter.kind, variant: setup.variant, mode: 'steady' as const, rate, settings: setup.settings };
  const r = finish(ctx, adapter, run, base, timing, cost);
  if (!complete) ctx.notes.push(`${scenario}: ${r.lost} event(s) had not arrived ${Math.round(setup.settleMs / 1000)} s after the writer stopped.`);
  if (r.writeRate < 0.9 * rate) {
    ctx.notes.push(
      `${scenario}: the writer reached only ${fmt(r.writeRate)} ev/s (up to ${fmt(r.writerLagMaxMs)} ms behind its schedule): ` +
        'the machine was saturated, so latencies include queueing on the CPU.',
    );
  }
}

/** The steady run's events through the relay's own writer (the shop's outbox writer, or the baseline's producer). */
async function nodeWrite(ctx: RunnerContext, setup: RelaySetup, run: RunState, rate: number): Promise<Timing> {
  const { perLaunch, maxInFlight, send } = setup.steady;
  const t = await openLoop({
    rate,
    total: Math.max(1, Math.round(rate * ctx.opts.durationS)),
    perLaunch,
    maxInFlight,
    launch: (k) => send(run, k),
    tick: () => ctx.status.update(),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return { writeStart: t.startedAt, writeEnd: t.endedAt, lagMaxMs: t.lagMaxMs };
}

const OUTBOX_EVENT_SQL = fileURLToPath(new URL('../pgbench/outbox-event.sql', import.meta.url));

/**
 * The steady run's events written by pgbench at the rate (Poisson arrivals, --concurrency connections).
 * pgbench cannot tell the ids it wrote, so the tracker adopts every unknown record of the topic into this
 * run, committed at its createdAt header; the run's count is the transactions pgbench committed.
 */
async function pgbenchWrite(ctx: RunnerContext, run: RunState, rate: number): Promise<Timing> {
  const { opts } = ctx;
  ctx.tracker.adopting = run;
  const writeStart = now();
  const res = await runPgbench(ctx.infra, {
    db: opts.db,
    script: OUTBOX_EVENT_SQL,
    clients: opts.concurrency,
    seconds: Math.max(1, Math.round(opts.durationS)),
    rate,
    defines: { pad: 'x'.repeat(Math.max(0, opts.payloadBytes - JSON.stringify(eventFactory(0)().payload).length)) },
  });
  const writeEnd = now();
  run.sent = res.processed;
  run.writeErrors = res.failed;
  return { writeStart, writeEnd, lagMaxMs: res.scheduleLagMaxMs ?? 0 };
}

/** Writes the backlog while nothing relays it (unless the relay sends it itself), then starts the relay and measures the drain. */
async function drainRun(ctx: RunnerContext, adapter: RelayAdapter, setup: RelaySetup): Promise<void> {
  const { opts } = ctx;
  const scenario = `${setup.label} drain ${opts.backlog.toLocaleString('en-US')}`;
  const run = newRun(ctx, scenario);
  let writeStart = now();
  let writeEnd = writeStart;
  if (adapter.backlogInOutbox) {
    ctx.status.phase = `${scenario}: writing the backlog`;
    const t = await openLoop({
      rate: 1e9,
      total: opts.backlog,
      perLaunch: opts.backlogPerTx,
      maxInFlight: opts.concurrency,
      launch: (k) => ctx.write(run, k),
      tick: () => ctx.status.update(),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    ({ startedAt: writeStart, endedAt: writeEnd } = t);
  }
  ctx.status.phase = `${scenario}: draining`;
  // The relay's database backend (the polling connection, Debezium's walsender) starts with the relay.
  const closeCost = await setup.cost(true);
  const relayStart = now();
  await setup.startDrain(run);
  const complete = await waitReceived(ctx, run, setup.settleMs + opts.backlog * 2);
  const cost = await closeCost(run.received);
  if (!adapter.backlogInOutbox) writeEnd = now();
  const base = { scenario, relay: adapter.kind, variant: setup.variant, mode: 'drain' as const, rate: null, settings: setup.settings };
  const r = finish(ctx, adapter, run, base, { writeStart, writeEnd, lagMaxMs: 0, relayStart }, cost);
  if (!complete) ctx.notes.push(`${scenario}: ${r.lost} event(s) had not arrived when the drain was given up.`);
}

type Timing = { writeStart: number; writeEnd: number; lagMaxMs: number; relayStart?: number };

/** Summarises a run from the tracker's receipts, records it and prints its line. */
function finish(
  ctx: RunnerContext,
  adapter: RelayAdapter,
  run: RunState,
  base: Pick<RunResult, 'scenario' | 'relay' | 'variant' | 'mode' | 'rate' | 'settings'>,
  timing: Timing,
  cost: DbCost | null,
): RunResult {
  const lat: number[] = [];
  let lastAt = 0;
  let firstCommit = Number.POSITIVE_INFINITY;
  let firstAt = Number.POSITIVE_INFINITY;
  for (const id of run.ids) {
    const t = ctx.tracker.events.get(id);
    if (!t) continue;
    firstCommit = Math.min(firstCommit, t.committedAt);
    if (t.count === 0) continue;
    const from = timing.relayStart !== undefined ? Math.max(t.committedAt, timing.relayStart) : t.committedAt;
    lat.push(Math.max(0, t.firstAt - from));
    lastAt = Math.max(lastAt, t.firstAt);
    firstAt = Math.min(firstAt, t.firstAt);
  }
  const drain = base.mode === 'drain' && timing.relayStart !== undefined;
  const span = drain ? lastAt - timing.relayStart! : lastAt - firstCommit;
  const result: RunResult = {
    ...base,
    sent: run.sent,
    received: run.received,
    lost: run.sent - run.received,
    duplicated: run.duplicated,
    writeErrors: run.writeErrors,
    latencyMs: summarize(lat),
    writeRate: run.sent / Math.max(1e-9, (timing.writeEnd - timing.writeStart) / 1000),
    throughput: run.received > 0 && span > 0 ? run.received / (span / 1000) : 0,
    firstRecordMs: drain && Number.isFinite(firstAt) ? firstAt - timing.relayStart! : null,
    drainMs: drain && lastAt > 0 ? lastAt - timing.relayStart! : null,
    streamRate: drain && lastAt - firstAt >= 10 ? run.received / ((lastAt - firstAt) / 1000) : null,
    writerLagMaxMs: timing.lagMaxMs,
    db: cost,
    settings: base.settings,
  };
  ctx.runs.push(result);
  ctx.status.done++;
  const l = result.latencyMs;
  const polls = cost && adapter.polls ? `  ${fmt(cost.pollsPerS)} polls/s` : '';
  const cpu = cost?.backendCpuPct != null ? ` db cpu ${fmt(cost.backendCpuPct)}%` : '';
  ctx.progress.note(
    `${result.scenario.padEnd(34)} sent ${String(result.sent).padStart(6)} recv ${String(result.received).padStart(6)} ` +
      `lost ${result.lost} dup ${result.duplicated}` +
      `  p50 ${fmt(l.p50)} p99 ${fmt(l.p99)} max ${fmt(l.max)} ms  ${fmt(result.throughput)} ev/s${polls}${cpu}`,
  );
  return result;
}
