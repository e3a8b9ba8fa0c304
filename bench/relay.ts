// Relay benchmark (issue 8): Debezium CDC against the polling relay against kafkajs straight to Kafka.
//
// One process writes ProductUpdated events through the real outbox writer (appendToOutbox, one
// transaction per event unless --per-tx says otherwise), notes when each transaction committed, consumes
// the target topic (in a worker thread) and matches records by their `id` header. Per scenario: sent, received, lost,
// duplicated; commit→consumer latency p50/p90/p99/max; sustained throughput; for the polling relay the
// database cost. Everything runs on its own database, connector, slot and topic, so the shop's connectors
// and topics are never touched.
//
//   npm run bench -- relay [--smoke] [--rates 200,1000] [--duration 10] [--backlog 20000] [--payload 512] ...
//   npm run bench -- relay --help
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import {
  appendToOutbox,
  ConnectClient,
  createDb,
  createKafka,
  createLogger,
  ensureTopics,
  GiveUp,
  loadInfra,
  OUTBOX_TABLE,
  outboxRecord,
  registerConnector,
  removeConnector,
  slotActive,
  traceparentFrom,
  waitUntil,
  type ConnectorConfig,
  type Infra,
  type Knex,
} from '@qtshop/shared';
import {
  addOutboxDelivery,
  createOutboxPublication,
  createOutboxTable,
  outboxPublicationOf,
  readConnector,
} from '@qtshop/shared/tooling';
import { loadRelayConfig } from '../services/relay/src/config';
import { RELAY_APPLICATION_NAME } from '../services/relay/src/polling';
import { createRelay, RELAY_POOL_APPLICATION_NAME, type Relay } from '../services/relay/src/relay';
import { applyCommon, list, num, nums, rewriteFromJson, runAsScript } from './lib/cli-args';
import { groupedBars, renderSvg, stack, type BarRow } from './lib/chart';
import { LoadWatch, machineInfo, processCpuMs, type MachineInfo } from './lib/machine';
import { Progress } from './lib/progress';
import { fmt, summarize, type LatencySummary } from './lib/stats';

export const RESULTS_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), 'results');

// ---------------------------------------------------------------------------------------------------
// Options

export type RelayKind = 'baseline' | 'debezium' | 'polling';

/**
 * Debezium connector variants: settings laid over connect-config/catalog-outbox.json (null removes a key,
 * so Debezium's own default applies). The bench records the effective settings of each variant.
 */
export const DEBEZIUM_VARIANTS: Record<string, { doc: string; settings: Record<string, string | null> }> = {
  defaults: {
    doc: "Debezium's and the Connect producer's defaults (poll.interval.ms 500, max.batch.size 2048, linger.ms 5)",
    settings: { 'poll.interval.ms': null },
  },
  file: { doc: 'connect-config/catalog-outbox.json as committed', settings: {} },
  poll10: {
    doc: 'poll.interval.ms 10, producer defaults',
    settings: { 'poll.interval.ms': '10' },
  },
  tuned: {
    doc: 'poll.interval.ms 10, producer linger.ms 0',
    settings: { 'poll.interval.ms': '10', 'producer.override.linger.ms': '0' },
  },
  fast: {
    doc: 'poll.interval.ms 1, producer linger.ms 0',
    settings: { 'poll.interval.ms': '1', 'producer.override.linger.ms': '0' },
  },
  'tuned-batch': {
    doc: 'tuned, with larger batches: max.batch.size 4096, max.queue.size 16384, producer batch.size 256 KiB',
    settings: {
      'poll.interval.ms': '10',
      'producer.override.linger.ms': '0',
      'max.batch.size': '4096',
      'max.queue.size': '16384',
      'producer.override.batch.size': '262144',
    },
  },
};

export interface RelayBenchOptions {
  /** Results go to <outDir>/<name>.{json,md,svg}. */
  name: string;
  outDir: string;
  /** Which relays to run, in this order. */
  relays: RelayKind[];
  /** Steady rates in events/s; each runs for durationS seconds. */
  rates: number[];
  durationS: number;
  /** Events of the drain scenario (written while the relay is stopped, then drained); 0 skips drains. */
  backlog: number;
  /** Approximate size of each event's JSON payload in bytes. */
  payloadBytes: number;
  /** Events per writer transaction in the steady scenarios. */
  perTx: number;
  /** Events per writer transaction while writing the backlog. */
  backlogPerTx: number;
  /** Concurrent writer transactions (database connections). */
  concurrency: number;
  /** Polling relay intervals (OUTBOX_POLL_INTERVAL_MS) to run. */
  pollIntervals: number[];
  /** OUTBOX_BATCH_SIZE of the polling relay. */
  batchSize: number;
  /** Debezium variants (keys of DEBEZIUM_VARIANTS) to run; each runs every rate and the drain. */
  debeziumVariants: string[];
  /** Events written and awaited before each relay's measured runs (not counted). */
  warmup: number;
  /** Longest wait for the last records after the writer stopped (a longer polling interval adds to it). */
  settleS: number;
  /** Own database, also naming the connector, slot, publication and topic. */
  db: string;
  /** The command line, for the report. */
  command: string;
  progress: boolean;
}

export const DEFAULTS: RelayBenchOptions = {
  name: 'relay',
  outDir: RESULTS_DIR,
  relays: ['baseline', 'debezium', 'polling'],
  rates: [200, 1000],
  durationS: 10,
  backlog: 20_000,
  payloadBytes: 512,
  perTx: 1,
  backlogPerTx: 100,
  concurrency: 8,
  pollIntervals: [3000, 100],
  batchSize: 500,
  debeziumVariants: ['defaults', 'file', 'poll10', 'tuned', 'fast', 'tuned-batch'],
  warmup: 50,
  settleS: 20,
  db: 'bench_relay',
  command: 'npm run bench -- relay',
  progress: true,
};

/** A few hundred events per scenario, every relay, one Debezium variant: for `npm test`. */
export const SMOKE: Partial<RelayBenchOptions> = {
  name: 'relay-smoke',
  rates: [200],
  durationS: 1.5,
  backlog: 300,
  backlogPerTx: 50,
  debeziumVariants: ['tuned'],
  pollIntervals: [1000, 100],
  warmup: 10,
  settleS: 15,
  db: 'bench_relay_smoke',
};

const USAGE = `npm run bench -- relay [options]

  --smoke                 preset: a few hundred events per scenario (what npm test runs)
  --relays LIST           baseline,debezium,polling (default: all three)
  --rates LIST            steady rates in events/s (default 200,1000)
  --duration S            seconds per steady rate (default 10)
  --backlog N             events drained in the drain scenario, 0 to skip (default 20000)
  --payload BYTES         JSON payload size per event (default 512)
  --per-tx N              events per writer transaction, steady scenarios (default 1)
  --backlog-per-tx N      events per transaction while writing the backlog (default 100)
  --concurrency N         concurrent writer transactions (default 8)
  --poll-intervals LIST   polling relay intervals in ms (default 3000,100)
  --batch-size N          polling relay OUTBOX_BATCH_SIZE (default 500)
  --debezium LIST         Debezium variants: ${Object.keys(DEBEZIUM_VARIANTS).join(', ')} (default all)
  --warmup N              events sent and awaited before measuring each relay (default 50)
  --settle S              longest wait for stragglers after writing (default 20)
  --db NAME               own database; names the connector, slot and topic too (default bench_relay)
  --name NAME             results file name (default relay; smoke: relay-smoke)
  --out DIR               results directory (default bench/results)
  --quiet                 no progress line
  --from-json FILE        run nothing: rewrite the table and chart of saved results (FILE.json → FILE.md, FILE.svg)
`;


export function parseRelayArgs(argv: string[]): RelayBenchOptions | 'help' | { fromJson: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      smoke: { type: 'boolean' },
      quiet: { type: 'boolean' },
      relays: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      backlog: { type: 'string' },
      payload: { type: 'string' },
      'per-tx': { type: 'string' },
      'backlog-per-tx': { type: 'string' },
      concurrency: { type: 'string' },
      'poll-intervals': { type: 'string' },
      'batch-size': { type: 'string' },
      debezium: { type: 'string' },
      warmup: { type: 'string' },
      settle: { type: 'string' },
      db: { type: 'string' },
      name: { type: 'string' },
      out: { type: 'string' },
      'from-json': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values['from-json']) return { fromJson: resolve(values['from-json']) };
  const o: RelayBenchOptions = { ...DEFAULTS, ...(values.smoke ? SMOKE : {}), command: ['npm run bench -- relay', ...argv].join(' ') };
  if (values.relays) {
    o.relays = list(values.relays).map((r) => {
      if (r !== 'baseline' && r !== 'debezium' && r !== 'polling') throw new Error(`--relays: unknown relay "${r}" (baseline, debezium, polling)`);
      return r;
    });
  }
  if (values.rates) o.rates = nums(values.rates, '--rates');
  if (values.duration) o.durationS = num(values.duration, '--duration', 0.1);
  if (values.backlog) o.backlog = num(values.backlog, '--backlog');
  if (values.payload) o.payloadBytes = num(values.payload, '--payload');
  if (values['per-tx']) o.perTx = num(values['per-tx'], '--per-tx', 1);
  if (values['backlog-per-tx']) o.backlogPerTx = num(values['backlog-per-tx'], '--backlog-per-tx', 1);
  if (values.concurrency) o.concurrency = num(values.concurrency, '--concurrency', 1);
  if (values['poll-intervals']) o.pollIntervals = nums(values['poll-intervals'], '--poll-intervals');
  if (values['batch-size']) o.batchSize = num(values['batch-size'], '--batch-size', 1);
  if (values.debezium) {
    o.debeziumVariants = list(values.debezium);
    for (const v of o.debeziumVariants) if (!DEBEZIUM_VARIANTS[v]) throw new Error(`--debezium: unknown variant "${v}" (${Object.keys(DEBEZIUM_VARIANTS).join(', ')})`);
  }
  if (values.warmup) o.warmup = num(values.warmup, '--warmup');
  if (values.settle) o.settleS = num(values.settle, '--settle', 1);
  return applyCommon(o, values);
}

// ---------------------------------------------------------------------------------------------------
// Results

export interface DbCost {
  /** Relay polls (SELECT … for update of unsent rows) per second, from the relay's own counters. */
  pollsPerS: number;
  /** Non-empty batches published per second (each followed by one UPDATE … set sent_at). */
  batchesPerS: number;
  /** Statements the relay sent per second: per poll BEGIN, SELECT, COMMIT, plus one UPDATE per batch. */
  statementsPerS: number;
  /** From pg_stat_statements: calls and execution time of the relay's SELECT and UPDATE. */
  pgss: { selectCalls: number; updateCalls: number; execMs: number } | null;
  /** Execution time of the relay's statements per second of run (ms/s), from pg_stat_statements. */
  sqlMsPerS: number | null;
  /** CPU of the database backend serving the relay (the polling connection, or Debezium's walsender), % of one core. */
  backendCpuPct: number | null;
  /** The same CPU time per 1,000 events of the run (ms). */
  backendCpuMsPer1k: number | null;
  /** Debezium runs: what the relay's delivery confirmation costs beside Debezium (absent in older results). */
  confirm?: ConfirmCost | null;
}

/** The confirmer (bench/lib/confirmer-process.ts) over one run. */
export interface ConfirmCost {
  /** Statements it ran per second (UPDATE … set seen_at per fetched batch, rarely a SELECT of duplicates), from pg_stat_statements. */
  statementsPerS: number | null;
  /** Their execution time per second of run (ms/s). */
  sqlMsPerS: number | null;
  /** CPU of the confirmer process (kafkajs consumer and pg client), % of one core. */
  processCpuPct: number | null;
  /** CPU of its PostgreSQL backends, % of one core. */
  backendCpuPct: number | null;
}

export interface RunResult {
  scenario: string;
  relay: RelayKind;
  variant: string;
  mode: 'steady' | 'drain';
  /** Target rate in events/s (steady) or null (drain). */
  rate: number | null;
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  writeErrors: number;
  /**
   * Steady: commit → consumer. Drain: from the moment the relay was started (or resumed) → consumer,
   * i.e. how long each backlog event waited for the relay once it ran.
   */
  latencyMs: LatencySummary;
  /** Events/s the writer achieved (steady); for a drain, how fast the backlog was written. */
  writeRate: number;
  /** Steady: received events / (last receipt − first commit). Drain: backlog / (last receipt − relay start). */
  throughput: number;
  /** Drain only: ms from relay start to its first and to its last record. */
  firstRecordMs: number | null;
  drainMs: number | null;
  /** Drain only: received / (last − first record): the rate once records flow, without the relay's start-up. */
  streamRate: number | null;
  /** Longest delay of the open-loop writer behind its schedule (a busy pool or event loop). */
  writerLagMaxMs: number;
  db: DbCost | null;
  settings: Record<string, string>;
}

export interface RelayBenchResults {
  name: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string;
  machine: MachineInfo;
  options: Omit<RelayBenchOptions, 'outDir' | 'progress' | 'command'>;
  topic: string;
  debeziumVariants: Record<string, { doc: string; settings: Record<string, string | null> }>;
  runs: RunResult[];
  /** Records on the topic whose id no run wrote (should stay 0: the topic is recreated per run). */
  foreign: number;
  targets: Array<{ target: string; met: boolean | null; detail: string }>;
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------
// Tracking sent and received events

interface Tracked {
  run: RunState;
  committedAt: number;
  firstAt: number;
  count: number;
}

interface RunState {
  label: string;
  sent: number;
  received: number;
  /** Receipts after the first of an id. */
  duplicated: number;
  writeErrors: number;
  ids: string[];
}

/** Milliseconds on a clock shared with the consumer's worker thread (performance.now() alone is per thread). */
const now = () => performance.timeOrigin + performance.now();

class Tracker {
  readonly events = new Map<string, Tracked>();
  foreign = 0;
  /** The consumer's crash, if it crashed: waits for records give up at once then. */
  consumerFailure: () => Error | undefined = () => undefined;

  newRun(label: string): RunState {
    return { label, sent: 0, received: 0, duplicated: 0, writeErrors: 0, ids: [] };
  }

  /** Registers ids before their transaction commits (a record can arrive before the commit callback runs). */
  expect(run: RunState, ids: string[]): void {
    for (const id of ids) this.events.set(id, { run, committedAt: Number.NaN, firstAt: Number.NaN, count: 0 });
  }

  committed(run: RunState, ids: string[], at: number): void {
    for (const id of ids) {
      const t = this.events.get(id);
      if (t) t.committedAt = at;
    }
    run.sent += ids.length;
    run.ids.push(...ids);
  }

  failed(run: RunState, ids: string[]): void {
    for (const id of ids) this.events.delete(id);
    run.writeErrors += ids.length;
  }

  received(id: string | undefined, at: number): void {
    const t = id ? this.events.get(id) : undefined;
    if (!t) {
      this.foreign++;
      return;
    }
    t.count++;
    if (t.count === 1) {
      t.firstAt = at;
      t.run.received++;
    } else {
      t.run.duplicated++;
    }
  }
}

interface ConsumerWorker {
  stop(): Promise<void>;
}

/**
 * Starts the consumer in a worker thread (bench/lib/consumer-worker.mjs): a fresh group reading the topic
 * from the beginning; resolves once the group is joined. Receipts are fed to the tracker with the
 * worker's timestamps.
 */
async function startConsumer(data: { brokers: string[]; topic: string; groupId: string; clientId: string }, tracker: Tracker): Promise<ConsumerWorker> {
  const worker = new Worker(new URL('./lib/consumer-worker.mjs', import.meta.url), { workerData: data });
  let failure: Error | undefined;
  const joined = new Promise<void>((resolveJoin, rejectJoin) => {
    worker.on('message', (m: { type: string; at?: number; ids?: Array<string | null>; message?: string }) => {
      if (m.type === 'batch') for (const id of m.ids!) tracker.received(id ?? undefined, m.at!);
      else if (m.type === 'joined') resolveJoin();
      else if (m.type === 'error') {
        failure = new Error(`consumer: ${m.message}`);
        rejectJoin(failure);
      }
    });
    worker.on('error', (err) => {
      failure = err;
      rejectJoin(err);
    });
    worker.on('exit', (code) => rejectJoin(new Error(`consumer worker exited (${code}) before joining its group`)));
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('consumer did not join its group within 60 s')), 60_000);
  });
  try {
    await Promise.race([joined, timeout]);
  } catch (err) {
    await worker.terminate();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  tracker.consumerFailure = () => failure;
  return {
    async stop() {
      let timer: NodeJS.Timeout | undefined;
      const stopped = new Promise<void>((r) => {
        worker.on('message', (m: { type: string }) => m.type === 'stopped' && r());
        timer = setTimeout(r, 10_000);
      });
      worker.postMessage({ type: 'stop' });
      await stopped;
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Writers

interface BenchEvent {
  id: string;
  aggregateId: string;
  payload: { productId: string; name: string; description: string; type: string; brand: string; pictureUrl: string; price: number; version: number };
}

function eventFactory(payloadBytes: number): () => BenchEvent {
  const base = { productId: randomUUID(), name: 'Bench kettle', description: '', type: 'bench', brand: 'QT-Shop', pictureUrl: 'https://img.example/bench.png', price: 2599, version: 1 };
  const pad = 'x'.repeat(Math.max(0, payloadBytes - JSON.stringify(base).length));
  return () => {
    const productId = randomUUID();
    return { id: randomUUID(), aggregateId: productId, payload: { ...base, productId, description: pad } };
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Open-loop writer: event i is due at start + i/rate whatever happened to earlier ones; `launch(k)` writes
 * k events (one transaction or one send). At most `maxInFlight` launches run at once; when they are all
 * busy the writer falls behind its schedule, and the worst delay is reported as writerLagMaxMs.
 */
async function openLoop(o: {
  rate: number;
  total: number;
  perLaunch: number;
  maxInFlight: number;
  launch: (k: number) => Promise<void>;
  tick?: () => void;
  signal?: AbortSignal;
}): Promise<{ startedAt: number; endedAt: number; lagMaxMs: number }> {
  const startedAt = now();
  const inflight = new Set<Promise<void>>();
  let issued = 0;
  let lagMaxMs = 0;
  while (issued < o.total) {
    o.signal?.throwIfAborted();
    const elapsed = now() - startedAt;
    const due = Math.min(o.total, Math.floor((elapsed * o.rate) / 1000) + 1);
    while (issued < o.total && due - issued >= Math.min(o.perLaunch, o.total - issued) && inflight.size < o.maxInFlight) {
      const k = Math.min(o.perLaunch, o.total - issued);
      lagMaxMs = Math.max(lagMaxMs, now() - startedAt - ((issued + k - 1) * 1000) / o.rate);
      const p: Promise<void> = o.launch(k).finally(() => inflight.delete(p));
      inflight.add(p);
      issued += k;
    }
    o.tick?.();
    if (issued >= o.total) break;
    if (inflight.size >= o.maxInFlight) await Promise.race(inflight);
    else await sleep(Math.max(1, ((issued + Math.min(o.perLaunch, o.total - issued) - 1) * 1000) / o.rate - (now() - startedAt)));
  }
  await Promise.all(inflight);
  return { startedAt, endedAt: now(), lagMaxMs: Math.max(0, lagMaxMs) };
}

/** Writes events through the shared outbox writer, `k` per transaction. */
function dbWriter(db: Knex, tracker: Tracker, newEvent: () => BenchEvent) {
  return async (run: RunState, k: number): Promise<void> => {
    const events = Array.from({ length: k }, newEvent);
    const ids = events.map((e) => e.id);
    tracker.expect(run, ids);
    try {
      await db.transaction(async (trx) => {
        for (const e of events) await appendToOutbox(trx, { type: 'ProductUpdated', aggregateId: e.aggregateId, payload: e.payload, id: e.id });
      });
    } catch {
      tracker.failed(run, ids);
      return;
    }
    tracker.committed(run, ids, now());
  };
}

/**
 * The baseline's producer side: events handed over are sent as soon as the previous request finished,
 * all that queued up meanwhile in one request (what the Java producer does too). Same producer settings as
 * the polling relay: idempotent, acks=-1, one request in flight, Java-compatible partitioner.
 */
class DirectSender {
  private queue: Array<{ run: RunState; ids: string[]; messages: ReturnType<typeof outboxRecord>['message'][] }> = [];
  private pumping: Promise<void> | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly tracker: Tracker,
    private readonly aggregateType: string,
    private readonly maxBatch = 500,
  ) {}

  /** Hands events over; their "commit" time is now (they exist from here on, as a committed row does). */
  push(run: RunState, events: BenchEvent[]): void {
    const ids = events.map((e) => e.id);
    this.tracker.expect(run, ids);
    this.tracker.committed(run, ids, now());
    const messages = events.map(
      (e) =>
        outboxRecord({ id: e.id, aggregatetype: this.aggregateType, aggregateid: e.aggregateId, type: 'ProductUpdated', payload: e.payload, traceparent: traceparentFrom() }).message,
    );
    this.queue.push({ run, ids, messages });
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  async flush(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: typeof this.queue = [];
      let n = 0;
      while (this.queue.length > 0 && n < this.maxBatch) {
        const item = this.queue.shift()!;
        batch.push(item);
        n += item.messages.length;
      }
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch.flatMap((b) => b.messages) });
      } catch {
        for (const b of batch) {
          b.run.sent -= b.ids.length;
          this.tracker.failed(b.run, b.ids);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Database cost probes

interface CostProbe {
  t0: number;
  stats: { polls: number; batches: number } | null;
  pid: number | undefined;
  cpu0: number | undefined;
  confirm?: { pid: number; cpu0: number | undefined; backendPids: number[]; backendCpu0: number | undefined };
}

async function confirmBackendPids(meta: Knex, db: string): Promise<number[]> {
  const rows = await meta('pg_stat_activity').where({ datname: db, application_name: RELAY_POOL_APPLICATION_NAME }).select<Array<{ pid: number }>>('pid');
  return rows.map((r) => r.pid);
}

async function cpuOfAll(pids: number[], expect: string): Promise<number | undefined> {
  const each = await Promise.all(pids.map((p) => processCpuMs(p, expect)));
  return each.some((c) => c === undefined) ? undefined : each.reduce<number>((a, c) => a + c!, 0);
}

async function confirmProbe(meta: Knex, db: string, confirmerPid: number | undefined): Promise<CostProbe['confirm']> {
  if (confirmerPid === undefined) return undefined;
  const backendPids = await confirmBackendPids(meta, db);
  return { pid: confirmerPid, cpu0: await processCpuMs(confirmerPid, 'confirmer-process'), backendPids, backendCpu0: await cpuOfAll(backendPids, 'postgres') };
}

async function relayBackendPid(meta: Knex, kind: RelayKind, db: string, slot: string): Promise<number | undefined> {
  if (kind === 'polling') {
    const row = await meta('pg_stat_activity').where({ datname: db, application_name: RELAY_APPLICATION_NAME }).first<{ pid: number } | undefined>('pid');
    return row?.pid;
  }
  if (kind === 'debezium') {
    const row = await meta('pg_replication_slots').where({ slot_name: slot }).first<{ active_pid: number | null } | undefined>('active_pid');
    return row?.active_pid ?? undefined;
  }
  return undefined;
}

/**
 * Opens a measuring window. `fresh`: the relay is about to be started, so its counters and its database
 * backend start from zero (the backend is looked up when the window closes).
 */
async function startCost(meta: Knex, kind: RelayKind, db: string, slot: string, relay: Relay | undefined, fresh = false, confirmerPid?: number): Promise<CostProbe> {
  if (kind === 'baseline') return { t0: now(), stats: null, pid: undefined, cpu0: undefined };
  await meta.raw('select pg_stat_statements_reset(0, (select oid from pg_database where datname = current_database()), 0)').catch(() => undefined);
  const confirm = await confirmProbe(meta, db, confirmerPid);
  if (fresh) return { t0: now(), stats: kind === 'polling' ? { polls: 0, batches: 0 } : null, pid: undefined, cpu0: 0, ...(confirm ? { confirm } : {}) };
  const pid = await relayBackendPid(meta, kind, db, slot);
  const s = relay?.pollers[0]?.stats();
  return { t0: now(), stats: s ? { polls: s.polls, batches: s.batches } : null, pid, cpu0: await processCpuMs(pid, 'postgres'), ...(confirm ? { confirm } : {}) };
}

async function endConfirmCost(meta: Knex, probe: CostProbe, end: number): Promise<ConfirmCost | null> {
  const c = probe.confirm;
  if (!c) return null;
  const ms = end - probe.t0;
  const pct = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? ((b - a) / ms) * 100 : null);
  let statements: number | null = null;
  let execMs: number | null = null;
  try {
    const { rows } = await meta.raw<{ rows: Array<{ query: string; calls: string; total_exec_time: number }> }>(
      `select query, calls, total_exec_time from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
    );
    const mine = rows.filter((r) => /^update outbox set seen_at/i.test(r.query.trim()) || /^select id from outbox where id = any/i.test(r.query.trim()));
    statements = mine.reduce((a, r) => a + Number(r.calls), 0);
    execMs = mine.reduce((a, r) => a + Number(r.total_exec_time), 0);
  } catch {
    /* pg_stat_statements unavailable */
  }
  return {
    statementsPerS: statements === null ? null : statements / (ms / 1000),
    sqlMsPerS: execMs === null ? null : execMs / (ms / 1000),
    processCpuPct: pct(c.cpu0, await processCpuMs(c.pid, 'confirmer-process')),
    backendCpuPct: pct(c.backendCpu0, await cpuOfAll(c.backendPids, 'postgres')),
  };
}

async function endCost(meta: Knex, probe: CostProbe, relay: Relay | undefined, kind: RelayKind, db: string, slot: string, events: number): Promise<DbCost | null> {
  if (kind === 'baseline') return null;
  const end = now();
  const seconds = (end - probe.t0) / 1000;
  const pid = probe.pid ?? (await relayBackendPid(meta, kind, db, slot));
  const cpu1 = await processCpuMs(pid, 'postgres');
  const cpuMs = probe.cpu0 !== undefined && cpu1 !== undefined ? cpu1 - probe.cpu0 : undefined;
  const backendCpuPct = cpuMs !== undefined ? (cpuMs / (end - probe.t0)) * 100 : null;
  const backendCpuMsPer1k = cpuMs !== undefined && events > 0 ? (cpuMs / events) * 1000 : null;
  const s = relay?.pollers[0]?.stats();
  if (!s || !probe.stats) {
    const confirm = await endConfirmCost(meta, probe, end);
    return { pollsPerS: 0, batchesPerS: 0, statementsPerS: 0, pgss: null, sqlMsPerS: null, backendCpuPct, backendCpuMsPer1k, ...(confirm ? { confirm } : {}) };
  }
  const polls = s.polls - probe.stats.polls;
  const batches = s.batches - probe.stats.batches;
  let pgss: DbCost['pgss'] = null;
  try {
    const { rows } = await meta.raw<{ rows: Array<{ query: string; calls: string; total_exec_time: number }> }>(
      `select query, calls, total_exec_time from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
    );
    const sel = rows.filter((r) => /from outbox\s+where sent_at is null/i.test(r.query));
    const upd = rows.filter((r) => /^update outbox set sent_at/i.test(r.query.trim()));
    pgss = {
      selectCalls: sel.reduce((a, r) => a + Number(r.calls), 0),
      updateCalls: upd.reduce((a, r) => a + Number(r.calls), 0),
      execMs: [...sel, ...upd].reduce((a, r) => a + Number(r.total_exec_time), 0),
    };
  } catch {
    pgss = null;
  }
  return {
    pollsPerS: polls / seconds,
    batchesPerS: batches / seconds,
    statementsPerS: (3 * polls + batches) / seconds,
    pgss,
    sqlMsPerS: pgss ? pgss.execMs / seconds : null,
    backendCpuPct,
    backendCpuMsPer1k,
  };
}

// ---------------------------------------------------------------------------------------------------
// The benchmark

export interface RelayBenchOutput {
  results: RelayBenchResults;
  files: { json: string; md: string; svg: string };
}

export function benchConnector(db: string, variant: string): ConnectorConfig {
  const base = readConnector('catalog-outbox');
  const cfg: Record<string, string> = {
    ...base,
    name: `${db}-outbox`,
    'database.dbname': db,
    'slot.name': `${db}_outbox`,
    'publication.name': outboxPublicationOf(db),
    'topic.prefix': db.replace(/_/g, '-'),
  };
  for (const [k, v] of Object.entries(DEBEZIUM_VARIANTS[variant]?.settings ?? {})) {
    if (v === null) delete cfg[k];
    else cfg[k] = v;
  }
  return cfg as ConnectorConfig;
}

/** The settings that decide latency and throughput, as the variant runs them (absent = the default). */
function latencySettings(cfg: Record<string, string>): Record<string, string> {
  const keys = ['poll.interval.ms', 'max.batch.size', 'max.queue.size', 'producer.override.linger.ms', 'producer.override.batch.size', 'heartbeat.interval.ms'];
  const defaults: Record<string, string> = {
    'poll.interval.ms': '500 (default)',
    'max.batch.size': '2048 (default)',
    'max.queue.size': '8192 (default)',
    'producer.override.linger.ms': '5 (Kafka 4 producer default)',
    'producer.override.batch.size': '16384 (default)',
  };
  return Object.fromEntries(keys.map((k) => [k, cfg[k] ?? defaults[k] ?? '(unset)']));
}

async function prepareDatabase(infra: Infra, db: string, aggregatePrefix: string): Promise<void> {
  const admin = createDb(infra, 'postgres', { max: 1 });
  try {
    const exists = await admin('pg_database').where({ datname: db }).first();
    if (!exists) await admin.raw('create database ??', [db]);
  } finally {
    await admin.destroy();
  }
  const knex = createDb(infra, db, { max: 1 });
  try {
    if (!(await knex.schema.hasTable(OUTBOX_TABLE))) {
      await createOutboxTable(knex);
      await addOutboxDelivery(knex);
    }
    // INSERTs only, as the shop's migrations make it: the confirmer's updates never reach Debezium.
    await createOutboxPublication(knex);
    await knex.raw('create extension if not exists pg_stat_statements');
    // The outbox writer derives the aggregate type (and so the topic) from the event type; this database's
    // trigger prefixes it, so the bench's events go to their own topic (qtshop.<db>.product) whichever
    // relay publishes them, and never reach the shop's consumers.
    await knex.raw(`create or replace function bench_route_outbox() returns trigger language plpgsql as $$
      begin new.aggregatetype := '${aggregatePrefix}' || new.aggregatetype; return new; end $$`);
    await knex.raw(`create or replace trigger bench_route_outbox before insert on ${OUTBOX_TABLE} for each row execute function bench_route_outbox()`);
    await knex.raw(`truncate ${OUTBOX_TABLE}`);
  } finally {
    await knex.destroy();
  }
}

/** Deletes and recreates the bench topic, so that a run reads only its own records from the beginning. */
async function freshTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) {
      await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
      await waitUntil(async () => !(await admin.listTopics()).includes(topic), { timeoutMs: 30_000, what: `topic ${topic} to be deleted` });
    }
  } finally {
    await admin.disconnect();
  }
  await waitUntil(
    async () => {
      await ensureTopics(kafka, [topic], 3);
      return true;
    },
    { timeoutMs: 30_000, everyMs: 500, what: `topic ${topic} to be created` },
  );
}

export async function runRelayBench(opts: RelayBenchOptions, signal?: AbortSignal): Promise<RelayBenchOutput> {
  const startedWall = new Date();
  const load = new LoadWatch();
  const t0 = now();
  const infra = loadInfra();
  const progress = new Progress(opts.progress);
  const aggregatePrefix = `${opts.db}.`;
  const aggregateType = `${aggregatePrefix}product`;
  const topic = `qtshop.${aggregateType}`;
  const connect = new ConnectClient(infra.connect.url);
  const tracker = new Tracker();
  const newEvent = eventFactory(opts.payloadBytes);
  const runs: RunResult[] = [];
  const notes: string[] = [];
  const plan = planRuns(opts);
  let runIndex = 0;
  let phase = 'setup';
  let live: RunState | undefined;

  const status = (force = false) => {
    const el = ((now() - t0) / 1000).toFixed(0);
    const r = live ? ` sent ${live.sent.toLocaleString('en-US')} recv ${live.received.toLocaleString('en-US')}${live.duplicated ? ` dup ${live.duplicated}` : ''}` : '';
    progress.update(`relay bench ${el}s [${Math.min(runIndex + 1, plan)}/${plan}] ${phase}${r}`, force);
  };
  const ticker = setInterval(() => status(), 250);

  const admin = createDb(infra, 'postgres', { max: 1 });
  const kafka = createKafka(infra.kafka.brokers, `bench-relay-${opts.db}`);
  let db: Knex | undefined;
  let meta: Knex | undefined;
  let consumer: ConsumerWorker | undefined;
  let relay: Relay | undefined;
  let registered: ConnectorConfig | undefined;
  // Debezium runs: the relay's delivery confirmer beside the connector, as in production (its cost is measured).
  let confirmer: ChildProcess | undefined;
  const startConfirmer = async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(fileURLToPath(new URL('.', import.meta.url)), 'lib/confirmer-process.ts'), opts.db, topic, `bench-confirm-${randomUUID()}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    confirmer = child;
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new GiveUp(`the confirmer exited: ${out}`);
        return out.includes('confirming');
      },
      { timeoutMs: 60_000, what: 'the confirmer to start' },
    );
  };
  const stopConfirmer = async () => {
    const child = confirmer;
    confirmer = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const groupId = `bench-relay-${randomUUID()}`;

  try {
    phase = 'preparing the database, topic and consumer';
    status(true);
    // Leftovers of an interrupted earlier run on this database: its connector and slot.
    await removeConnector(connect, admin, benchConnector(opts.db, 'file'));
    await prepareDatabase(infra, opts.db, aggregatePrefix);
    db = createDb(infra, opts.db, { max: opts.concurrency });
    meta = createDb(infra, opts.db, { max: 1 });
    await freshTopic(kafka, topic);

    consumer = await startConsumer({ brokers: infra.kafka.brokers, topic, groupId, clientId: `bench-relay-consumer-${opts.db}` }, tracker);

    const write = dbWriter(db, tracker, newEvent);
    const totalFor = (rate: number) => Math.max(1, Math.round(rate * opts.durationS));

    const waitReceived = async (run: RunState, timeoutMs: number): Promise<boolean> => {
      const deadline = now() + timeoutMs;
      while (run.received < run.sent) {
        signal?.throwIfAborted();
        const failed = tracker.consumerFailure();
        if (failed) throw failed;
        if (now() > deadline) return false;
        await sleep(10);
      }
      return true;
    };

    const warmUp = async (what: string, writeOne: (run: RunState) => Promise<void>, timeoutMs: number) => {
      if (opts.warmup <= 0) return;
      phase = `${what}: warm-up`;
      const run = tracker.newRun('warm-up');
      live = run;
      for (let i = 0; i < opts.warmup; i++) await writeOne(run);
      if (!(await waitReceived(run, timeoutMs))) throw new Error(`${what}: warm-up events did not arrive within ${timeoutMs} ms (${run.received}/${run.sent})`);
    };

    const finish = (
      run: RunState,
      base: Pick<RunResult, 'scenario' | 'relay' | 'variant' | 'mode' | 'rate' | 'settings'>,
      timing: { writeStart: number; writeEnd: number; lagMaxMs: number; relayStart?: number },
      cost: DbCost | null,
    ): RunResult => {
      const lat: number[] = [];
      let lastAt = 0;
      let firstCommit = Number.POSITIVE_INFINITY;
      let firstAt = Number.POSITIVE_INFINITY;
      for (const id of run.ids) {
        const t = tracker.events.get(id);
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
      runs.push(result);
      runIndex++;
      const l = result.latencyMs;
      progress.note(
        `${result.scenario.padEnd(34)} sent ${String(result.sent).padStart(6)} recv ${String(result.received).padStart(6)} lost ${result.lost} dup ${result.duplicated}` +
          `  p50 ${fmt(l.p50)} p99 ${fmt(l.p99)} max ${fmt(l.max)} ms  ${fmt(result.throughput)} ev/s` +
          (cost ? `${result.relay === 'polling' ? `  ${fmt(cost.pollsPerS)} polls/s` : ''}${cost.backendCpuPct !== null ? ` db cpu ${fmt(cost.backendCpuPct)}%` : ''}` : ''),
      );
      return result;
    };

    /** Steady rates against a relay that is running; `settleMs` bounds the wait for the last records. */
    const steadyRuns = async (kind: RelayKind, variant: string, label: string, settings: Record<string, string>, settleMs: number, sendK: (run: RunState, k: number) => Promise<void>, flush?: () => Promise<void>) => {
      for (const rate of opts.rates) {
        const scenario = `${label} @ ${rate}/s`;
        phase = `${scenario}: writing`;
        const run = tracker.newRun(scenario);
        live = run;
        const cost0 = await startCost(meta!, kind, opts.db, `${opts.db}_outbox`, relay, false, confirmer?.pid);
        const timing = await openLoop({
          rate,
          total: totalFor(rate),
          perLaunch: kind === 'baseline' ? 1 : opts.perTx,
          maxInFlight: kind === 'baseline' ? 1_000_000 : opts.concurrency,
          launch: (k) => sendK(run, k),
          tick: () => status(),
          ...(signal ? { signal } : {}),
        });
        await flush?.();
        phase = `${scenario}: waiting for the last records`;
        const complete = await waitReceived(run, settleMs);
        const cost = await endCost(meta!, cost0, relay, kind, opts.db, `${opts.db}_outbox`, run.received);
        const r = finish(run, { scenario, relay: kind, variant, mode: 'steady', rate, settings }, { writeStart: timing.startedAt, writeEnd: timing.endedAt, lagMaxMs: timing.lagMaxMs }, cost);
        if (!complete) notes.push(`${scenario}: ${r.lost} event(s) had not arrived ${Math.round(settleMs / 1000)} s after the writer stopped.`);
        if (r.writeRate < 0.9 * rate) {
          notes.push(`${scenario}: the writer reached only ${fmt(r.writeRate)} ev/s (up to ${fmt(r.writerLagMaxMs)} ms behind its schedule): the machine was saturated, so latencies include queueing on the CPU.`);
        }
      }
    };

    /** Writes the backlog while nothing relays it, then `start()`s the relay and measures the drain. */
    const drainRun = async (kind: RelayKind, variant: string, label: string, settings: Record<string, string>, settleMs: number, start: () => Promise<void>, writeBacklog?: (run: RunState) => Promise<{ writeStart: number; writeEnd: number }>) => {
      if (opts.backlog <= 0) return;
      const scenario = `${label} drain ${opts.backlog.toLocaleString('en-US')}`;
      const run = tracker.newRun(scenario);
      live = run;
      let writeStart = now();
      let writeEnd = writeStart;
      if (writeBacklog) {
        phase = `${scenario}: writing the backlog`;
        ({ writeStart, writeEnd } = await writeBacklog(run));
      }
      phase = `${scenario}: draining`;
      // The relay's database backend (the polling connection, Debezium's walsender) starts with the relay.
      const cost0 = await startCost(meta!, kind, opts.db, `${opts.db}_outbox`, relay, true, confirmer?.pid);
      const relayStart = now();
      await start();
      const complete = await waitReceived(run, settleMs + opts.backlog * 2);
      const cost = await endCost(meta!, cost0, relay, kind, opts.db, `${opts.db}_outbox`, run.received);
      if (!writeBacklog) writeEnd = now();
      const r = finish(run, { scenario, relay: kind, variant, mode: 'drain', rate: null, settings }, { writeStart, writeEnd, lagMaxMs: 0, relayStart }, cost);
      if (!complete) notes.push(`${scenario}: ${r.lost} event(s) had not arrived when the drain was given up.`);
    };

    const writeBacklogDb = async (run: RunState) => {
      const t = await openLoop({ rate: 1e9, total: opts.backlog, perLaunch: opts.backlogPerTx, maxInFlight: opts.concurrency, launch: (k) => write(run, k), tick: () => status(), ...(signal ? { signal } : {}) });
      return { writeStart: t.startedAt, writeEnd: t.endedAt };
    };

    for (const kind of opts.relays) {
      if (kind === 'baseline') {
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        try {
          const sender = new DirectSender(producer, topic, tracker, aggregateType, opts.batchSize);
          const settings = { producer: 'kafkajs 2.2.4, idempotent, acks=-1, 1 request in flight, requests of up to ' + opts.batchSize + ' records' };
          await warmUp('baseline', async (run) => sender.push(run, [newEvent()]), 30_000);
          await steadyRuns('baseline', 'kafkajs', 'baseline (kafkajs)', settings, opts.settleS * 1000, async (run, k) => sender.push(run, Array.from({ length: k }, newEvent)), () => sender.flush());
          await drainRun('baseline', 'kafkajs', 'baseline (kafkajs)', settings, opts.settleS * 1000, async () => {
            const run = live!;
            const events = Array.from({ length: opts.backlog }, newEvent);
            for (let i = 0; i < events.length; i += opts.batchSize) sender.push(run, events.slice(i, i + opts.batchSize));
            await sender.flush();
          });
        } finally {
          await producer.disconnect();
        }
      }

      if (kind === 'debezium') {
        for (const variant of opts.debeziumVariants) {
          const cfg = benchConnector(opts.db, variant);
          const settings = latencySettings(cfg);
          const label = `debezium (${variant})`;
          phase = `${label}: registering the connector`;
          await db.raw(`truncate ${OUTBOX_TABLE}`);
          await registerConnector(connect, admin, cfg, 90_000);
          registered = cfg;
          phase = `${label}: starting the confirmer`;
          await startConfirmer();
          await warmUp(label, (run) => write(run, 1), 60_000);
          await steadyRuns('debezium', variant, label, settings, opts.settleS * 1000, write);
          if (opts.backlog > 0) {
            // Stopped, not paused: a paused task keeps decoding into its queue (up to max.queue.size
            // records), which would flatter the drain. A stopped connector has closed its replication
            // connection, so the whole backlog is read from the slot after the resume, as after an outage.
            phase = `${label}: stopping the connector`;
            await connect.stop(cfg.name);
            await waitUntil(
              async () => {
                const s = await connect.status(cfg.name);
                return s.connector.state === 'STOPPED' && s.tasks.length === 0 && !(await slotActive(admin, cfg['slot.name']!));
              },
              { timeoutMs: 60_000, what: `connector ${cfg.name} to stop and release its slot` },
            );
            await drainRun('debezium', variant, label, settings, opts.settleS * 1000, () => connect.resume(cfg.name).then(() => undefined), writeBacklogDb);
          }
          phase = `${label}: removing the connector`;
          await stopConfirmer();
          await removeConnector(connect, admin, cfg);
          registered = undefined;
        }
      }

      if (kind === 'polling') {
        for (const interval of opts.pollIntervals) {
          const label = `polling ${interval} ms`;
          const settings = { OUTBOX_POLL_INTERVAL_MS: String(interval), OUTBOX_BATCH_SIZE: String(opts.batchSize) };
          const settle = opts.settleS * 1000 + 2 * interval;
          const startRelay = async () => {
            relay = createRelay(
              { ...loadRelayConfig(), RELAY_PORT: 0, RELAY_MODE: 'polling', OUTBOX_DATABASES: [opts.db], OUTBOX_POLL_INTERVAL_MS: interval, OUTBOX_BATCH_SIZE: opts.batchSize },
              { log: createLogger('bench-relay', 'silent') },
            );
            await relay.start();
          };
          const stopRelay = async () => {
            const r = relay;
            relay = undefined;
            const s = r?.pollers[0]?.stats();
            if (s?.errors) notes.push(`${label}: the polling relay reported ${s.errors} failed poll(s); last: ${s.lastError}`);
            await r?.stop();
          };
          await db.raw(`truncate ${OUTBOX_TABLE}`);
          phase = `${label}: starting the relay`;
          await startRelay();
          try {
            await warmUp(label, (run) => write(run, 1), 30_000 + 2 * interval);
            await steadyRuns('polling', `${interval} ms`, label, settings, settle, write);
          } finally {
            await stopRelay();
          }
          await db.raw(`truncate ${OUTBOX_TABLE}`);
          try {
            await drainRun('polling', `${interval} ms`, label, settings, settle, startRelay, writeBacklogDb);
          } finally {
            await stopRelay();
          }
        }
      }
    }
  } finally {
    clearInterval(ticker);
    phase = 'cleaning up';
    status(true);
    await relay?.stop().catch(() => undefined);
    await stopConfirmer().catch(() => undefined);
    if (registered) await removeConnector(connect, admin, registered).catch((err: unknown) => progress.note(`could not remove connector ${registered!.name}: ${String(err)}`));
    await consumer?.stop().catch(() => undefined);
    const kadmin = kafka.admin();
    await kadmin
      .connect()
      .then(() => kadmin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => kadmin.disconnect());
    await db?.destroy();
    await meta?.destroy();
    await admin.destroy();
    progress.clear();
  }

  const machine = { ...machineInfo(), maxLoad: Math.round(load.stop() * 100) / 100 };
  const results: RelayBenchResults = {
    name: opts.name,
    startedAt: startedWall.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: Math.round((now() - t0) / 100) / 10,
    command: opts.command,
    machine,
    options: (({ outDir: _o, progress: _p, command: _c, ...rest }) => rest)(opts),
    topic,
    debeziumVariants: Object.fromEntries(opts.debeziumVariants.map((v) => [v, DEBEZIUM_VARIANTS[v]!])),
    runs,
    foreign: tracker.foreign,
    targets: evaluateTargets(runs, opts),
    notes,
  };
  // Duplicates can arrive after their run was summarised: count them again now.
  for (const r of results.runs) r.duplicated = countDuplicates(tracker, r.scenario);

  await mkdir(opts.outDir, { recursive: true });
  const files = {
    json: resolve(opts.outDir, `${opts.name}.json`),
    md: resolve(opts.outDir, `${opts.name}.md`),
    svg: resolve(opts.outDir, `${opts.name}.svg`),
  };
  await writeFile(files.json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(files.svg, await relayChart(results));
  await writeFile(files.md, relayMarkdown(results, `${opts.name}.svg`));
  return { results, files };
}

function countDuplicates(tracker: Tracker, scenario: string): number {
  let dup = 0;
  for (const t of tracker.events.values()) if (t.run.label === scenario && t.count > 1) dup += t.count - 1;
  return dup;
}

function planRuns(o: RelayBenchOptions): number {
  const perRelay = o.rates.length + (o.backlog > 0 ? 1 : 0);
  return o.relays.reduce((n, k) => n + perRelay * (k === 'baseline' ? 1 : k === 'debezium' ? o.debeziumVariants.length : o.pollIntervals.length), 0);
}

// ---------------------------------------------------------------------------------------------------
// Targets, report and chart

export function evaluateTargets(runs: RunResult[], o: Pick<RelayBenchOptions, 'rates' | 'debeziumVariants'>): RelayBenchResults['targets'] {
  const out: RelayBenchResults['targets'] = [];
  const top = Math.max(...o.rates);
  const at1000 = o.rates.includes(1000) ? 1000 : top;
  for (const variant of o.debeziumVariants) {
    const r = runs.find((x) => x.relay === 'debezium' && x.variant === variant && x.mode === 'steady' && x.rate === at1000);
    if (r) out.push({ target: `Debezium (${variant}) p99 < 150 ms at ${at1000} ev/s`, met: r.latencyMs.p99 < 150, detail: `p99 ${fmt(r.latencyMs.p99)} ms` });
  }
  const lost = runs.filter((r) => r.lost > 0);
  out.push({ target: 'zero lost in every scenario', met: lost.length === 0, detail: lost.length ? lost.map((r) => `${r.scenario}: ${r.lost}`).join('; ') : `${runs.length} runs, 0 lost` });
  const dups = runs.reduce((a, r) => a + r.duplicated, 0);
  out.push({ target: 'duplicates reported', met: null, detail: `${dups} duplicate record(s) in all runs` });
  for (const r of runs.filter((x) => x.relay === 'polling' && x.variant === '3000 ms' && x.mode === 'steady')) {
    const ratio = r.latencyMs.mean / 1500;
    out.push({ target: `polling 3000 ms mean near half the interval (1500 ms) at ${r.rate} ev/s`, met: ratio > 0.8 && ratio < 1.25, detail: `mean ${fmt(r.latencyMs.mean)} ms (${fmt(ratio * 100)}% of 1500)` });
  }
  const base = runs.find((x) => x.relay === 'baseline' && x.mode === 'drain');
  const p100 = runs.find((x) => x.relay === 'polling' && x.variant === '100 ms' && x.mode === 'drain');
  if (base && p100) {
    const ratio = p100.throughput / base.throughput;
    out.push({ target: 'polling 100 ms drains at ≥ 50% of the baseline rate', met: ratio >= 0.5, detail: `${fmt(p100.throughput)} vs ${fmt(base.throughput)} ev/s (${fmt(ratio * 100)}%)` });
  }
  return out;
}

const mark = (met: boolean | null) => (met === null ? 'ℹ' : met ? '✅ met' : '❌ missed');

export function relayMarkdown(r: RelayBenchResults, svgName: string): string {
  const lines: string[] = [];
  lines.push(`# Relay benchmark: ${r.name}`, '');
  lines.push(`Run ${r.startedAt} (${r.durationS} s) on ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB (${r.machine.cpuModel}), ${r.machine.os}, Node ${r.machine.node}; highest 1-minute load average ${r.machine.maxLoad ?? r.machine.loadAvg[0]}.`, '');
  lines.push('```', r.command, '```', '');
  const o = r.options;
  lines.push(
    `Events: ProductUpdated through the shared outbox writer, payload ≈ ${o.payloadBytes} B, ${o.perTx} event(s) per transaction, ` +
      `up to ${o.concurrency} transactions at once; steady rates ${o.rates.join(', ')} ev/s for ${o.durationS} s each (open loop); ` +
      `drain: ${o.backlog.toLocaleString('en-US')} events written (${o.backlogPerTx} per transaction) while the relay is stopped, then drained. ` +
      `Topic ${r.topic} (3 partitions), one kafkajs consumer matching records by the id header. Warm-up: ${o.warmup} events per relay, not counted.`,
    '',
  );
  lines.push(`![latency and throughput per scenario](${svgName})`, '');
  lines.push('| scenario | sent | received | lost | dup | p50 ms | p90 ms | p99 ms | max ms | mean ms | written ev/s | throughput ev/s | relay polls/s | relay stmts/s | relay SQL ms/s | db backend CPU % | db CPU ms per 1k events |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of r.runs) {
    const l = x.latencyMs;
    const d = x.db;
    lines.push(
      `| ${x.scenario} | ${x.sent} | ${x.received} | ${x.lost} | ${x.duplicated} | ${fmt(l.p50)} | ${fmt(l.p90)} | ${fmt(l.p99)} | ${fmt(l.max)} | ${fmt(l.mean)} | ${fmt(x.writeRate)} | ${fmt(x.throughput)} | ` +
        `${d && x.relay === 'polling' ? fmt(d.pollsPerS) : '–'} | ${d && x.relay === 'polling' ? fmt(d.statementsPerS) : '–'} | ${d?.sqlMsPerS != null && x.relay === 'polling' ? fmt(d.sqlMsPerS, 2) : '–'} | ${d?.backendCpuPct != null ? fmt(d.backendCpuPct) : '–'} | ${d?.backendCpuMsPer1k != null ? fmt(d.backendCpuMsPer1k) : '–'} |`,
    );
  }
  const confirmed = r.runs.filter((x) => x.db?.confirm);
  if (confirmed.length > 0) {
    const opt = (v: number | null | undefined, digits?: number) => (v == null ? '–' : fmt(v, digits));
    lines.push(
      '',
      '### Cost of delivery confirmation (Debezium runs)',
      '',
      'In debezium mode the relay reads the outbox topic with its own consumer group and marks each row whose record it sees (one `UPDATE … set seen_at` per fetched batch). The runs above had it running beside the connector, in a process of its own; its latency is included in theirs. Its cost over each run:',
      '',
      '| scenario | confirm stmts/s | confirm SQL ms/s | confirmer process CPU % | its db backends CPU % |',
      '|---|---:|---:|---:|---:|',
      ...confirmed.map((x) => {
        const c = x.db!.confirm!;
        return `| ${x.scenario} | ${opt(c.statementsPerS)} | ${opt(c.sqlMsPerS, 2)} | ${opt(c.processCpuPct)} | ${opt(c.backendCpuPct)} |`;
      }),
    );
  }
  lines.push('');
  lines.push(
    'Written: events/s the writer achieved (the target is the rate in the scenario name). Latency: steady runs, commit of the writer transaction → the consumer\'s batch callback (same process, monotonic clock); drains, relay start/resume → consumer. ' +
      'Throughput: steady, received / (last receipt − first commit); drain, backlog / (last receipt − relay start). ' +
      'Relay statements/s: BEGIN, SELECT … FOR UPDATE and COMMIT per poll plus one UPDATE per non-empty batch (relay counters); SQL ms/s: execution time of its SELECT and UPDATE from pg_stat_statements. ' +
      'db backend CPU: the PostgreSQL process serving the relay (the polling connection, or the walsender that decodes WAL for Debezium), % of one core over the run and ms per 1,000 events, from /proc (10 ms ticks). Not in it: for polling, the extra WAL and dead tuples of its UPDATE (vacuum); for Debezium, nothing is left behind, but its walsender reads the WAL of the whole cluster, other databases included.',
    '',
  );
  const drains = r.runs.filter((x) => x.mode === 'drain');
  if (drains.length) {
    lines.push(
      '| drain | backlog written at ev/s | first record after ms | drained in ms | ev/s from relay start | ev/s from first record |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const x of drains) lines.push(`| ${x.scenario} | ${x.relay === 'baseline' ? '–' : fmt(x.writeRate)} | ${fmt(x.firstRecordMs)} | ${fmt(x.drainMs)} | ${fmt(x.throughput)} | ${fmt(x.streamRate)} |`);
    lines.push(
      '',
      'Drains start the relay on a backlog: the polling relay is created and started, the Debezium connector (stopped while the backlog was written, its replication connection closed) is resumed, the baseline producer starts sending. "From relay start" includes the relay\'s start-up (for Debezium the task restart and replication reconnect), "from first record" is the rate once records flow.',
    );
    lines.push('');
  }
  lines.push('## Targets (issue 8)', '', '| target | result | measured |', '|---|---|---|');
  for (const t of r.targets) lines.push(`| ${t.target} | ${mark(t.met)} | ${t.detail} |`);
  lines.push('');
  const variants = Object.entries(r.debeziumVariants);
  if (variants.length) {
    lines.push('## Debezium connector variants', '', '| variant | what | settings that differ from connect-config/catalog-outbox.json |', '|---|---|---|');
    for (const [name, v] of variants) {
      const s = Object.entries(v.settings).map(([k, val]) => `\`${k}\`=${val === null ? '(removed: default)' : `\`${val}\``}`);
      lines.push(`| ${name} | ${v.doc} | ${s.join(', ') || '(none)'} |`);
    }
    lines.push('');
    const byVariant = r.runs.filter((x) => x.relay === 'debezium');
    if (byVariant.length) {
      lines.push('Effect (p50 / p99 ms per steady rate; drain ev/s):', '', `| variant | ${r.options.rates.map((x) => `${x}/s p50 / p99`).join(' | ')} | drain ev/s |`, `|---|${r.options.rates.map(() => '---:').join('|')}|---:|`);
      for (const [name] of variants) {
        const cells = r.options.rates.map((rate) => {
          const x = byVariant.find((y) => y.variant === name && y.rate === rate);
          return x ? `${fmt(x.latencyMs.p50)} / ${fmt(x.latencyMs.p99)}` : '–';
        });
        const d = byVariant.find((y) => y.variant === name && y.mode === 'drain');
        lines.push(`| ${name} | ${cells.join(' | ')} | ${d ? fmt(d.throughput) : '–'} |`);
      }
      lines.push('');
    }
  }
  if (r.notes.length || r.foreign) {
    lines.push('## Notes', '');
    for (const n of r.notes) lines.push(`- ${n}`);
    if (r.foreign) lines.push(`- ${r.foreign} record(s) on the topic matched no event of this run.`);
    lines.push('');
  }
  return lines.join('\n');
}

export async function relayChart(r: RelayBenchResults): Promise<string> {
  const lat: BarRow[] = [];
  for (const x of r.runs.filter((y) => y.mode === 'steady')) {
    for (const p of ['p50', 'p90', 'p99'] as const) lat.push({ label: x.scenario, series: p, value: x.latencyMs[p] });
  }
  // Steady runs deliver what they are offered (the rate in their name); the drains show what each relay can do.
  const thr: BarRow[] = r.runs.filter((x) => x.mode === 'drain').map((x) => ({ label: x.scenario, series: 'drain', value: x.throughput }));
  const charts = [groupedBars({ title: 'Commit → consumer latency per steady scenario (ms, log scale)', unit: 'ms', rows: lat, log: true, format: ',.3~r', seriesOrder: ['p50', 'p90', 'p99'] })];
  if (thr.length) charts.push(groupedBars({ title: `Drain throughput: ${r.options.backlog.toLocaleString('en-US')}-event backlog (received events/s)`, unit: 'events/s', rows: thr }));
  return renderSvg(stack(`Outbox relays — ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB — ${r.startedAt.slice(0, 10)}`, charts));
}

// ---------------------------------------------------------------------------------------------------
// Command line

export async function relayMain(argv: string[]): Promise<number> {
  const opts = parseRelayArgs(argv);
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if ('fromJson' in opts) {
    await rewriteFromJson(opts.fromJson, relayChart, relayMarkdown);
    return 0;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { results, files } = await runRelayBench(opts, abort.signal);
    process.stdout.write(`${relayMarkdown(results, files.svg)}\nwrote ${files.json}\n      ${files.md}\n      ${files.svg}\n`);
    return results.runs.some((x) => x.lost > 0) ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

runAsScript(import.meta.url, 'relay benchmark', relayMain);
