// What the relay benchmark records per run and for the whole benchmark (the JSON of bench/results).
import type { MachineInfo } from '../lib/machine';
import type { Target } from '../lib/report';
import type { LatencySummary } from '../lib/stats';
import type { RelayBenchOptions, RelayKind } from './options';

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
  /** Statements it ran per second (one per fetched batch: lock the rows seen, confirm or flag them as misrouted), from pg_stat_statements. */
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
  targets: Target[];
  notes: string[];
}
