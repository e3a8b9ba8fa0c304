// One relay as the benchmark drives it. Each relay (baseline.ts, debezium.ts, polling.ts) says here, in
// one place, how it is set up, fed in the steady runs, stopped and restarted around a drain, measured and
// torn down; runner.ts runs every relay the same way.
import type { Kafka } from 'kafkajs';
import type { Knex } from '@qtshop/shared/infra';
import type { ConnectClient } from '@qtshop/shared/delivery';
import type { CloseCost } from './cost';
import type { RelayBenchOptions, RelayKind } from './options';
import type { RelayBenchResults } from './results';
import type { RunState, Tracker } from './tracker';
import type { BenchEvent } from './writers';

/** What a relay's set-up may use: the bench's database, Kafka and Connect, its topic and its writers. */
export interface AdapterContext {
  opts: RelayBenchOptions;
  /** The writers' pool on the bench database. */
  db: Knex;
  /** One connection on the bench database for the cost probes. */
  meta: Knex;
  /** One connection on the `postgres` database. */
  admin: Knex;
  connect: ConnectClient;
  kafka: Kafka;
  topic: string;
  aggregateType: string;
  tracker: Tracker;
  newEvent: () => BenchEvent;
  /** Writes k events in one transaction through the outbox writer. */
  write: (run: RunState, k: number) => Promise<void>;
  notes: string[];
  phase: (what: string) => void;
}

/** One configuration of a relay (a Debezium variant, a polling interval): it runs every rate and the drain. */
export interface RelaySetup {
  variant: string;
  /** Names its scenarios. */
  label: string;
  /** The settings that decide its latency and throughput, for the report. */
  settings: Record<string, string>;
  /** Longest wait for the last records after the writer stopped. */
  settleMs: number;
  warmUpTimeoutMs: number;
  /** Sets the relay up and starts it. `close` follows, whether this completed or not. */
  start(): Promise<void>;
  /** How the steady runs write: `send` writes k events, `perLaunch` at a time, at most `maxInFlight` at once. */
  steady: { perLaunch: number; maxInFlight: number; send(run: RunState, k: number): Promise<void>; flush?(): Promise<void> };
  /** Stops relaying, before the drain's backlog is written. */
  stop(): Promise<void>;
  /** Starts (or resumes) the relay on the backlog; the baseline sends the backlog here. */
  startDrain(run: RunState): Promise<void>;
  /** Opens a measuring window; `fresh`: the relay is about to be started by `startDrain`. */
  cost(fresh: boolean): Promise<CloseCost>;
  close(): Promise<void>;
}

export interface RelayAdapter {
  kind: RelayKind;
  /** The configurations to run, in order. */
  setups(opts: RelayBenchOptions): Array<(ctx: AdapterContext) => RelaySetup>;
  /** Whether the drain's backlog is written to the outbox while the relay is stopped (else `startDrain` sends it). */
  backlogInOutbox: boolean;
  /** The relay polls the outbox: its polls, statements and SQL time per second are counted and reported. */
  polls: boolean;
  /** Removes what an interrupted earlier run on the bench database left behind. */
  cleanLeftovers?(ctx: { connect: ConnectClient; admin: Knex; db: string }): Promise<void>;
  /** The report's section about this relay's configurations. */
  reportLines?(r: RelayBenchResults): string[];
}
