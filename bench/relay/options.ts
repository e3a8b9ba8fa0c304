// The relay benchmark's options, declared once (bench/lib/options.ts makes the parser, usage and defaults).
import { atLeast, commonSpecs, defaultsOf, oneOf, parseOptions, positives, usage, type BenchFields, type DefaultsOf } from '../lib/options';
import { RESULTS_DIR } from '../lib/report';

export type RelayKind = 'baseline' | 'debezium' | 'polling';
export type WriterKind = 'pgbench' | 'node';

/**
 * Debezium connector variants: settings laid over connect-config/catalog-outbox.json (null removes a key,
 * so Debezium's own default applies). The bench records the effective settings of each variant. The
 * producer's settings are the Connect worker's for every variant (linger.ms 0): its
 * connector.client.config.override.policy is None, so no connector config may change its Kafka clients.
 */
export const DEBEZIUM_VARIANTS: Record<string, { doc: string; settings: Record<string, string | null> }> = {
  defaults: {
    doc: "Debezium's defaults (poll.interval.ms 500, max.batch.size 2048)",
    settings: { 'poll.interval.ms': null, 'max.batch.size': null },
  },
  file: { doc: 'connect-config/catalog-outbox.json as committed', settings: {} },
  tuned: {
    doc: 'poll.interval.ms 10',
    settings: { 'poll.interval.ms': '10' },
  },
  fast: {
    doc: 'poll.interval.ms 1',
    settings: { 'poll.interval.ms': '1' },
  },
  'tuned-batch': {
    doc: 'tuned, with larger batches: max.batch.size 4096, max.queue.size 16384',
    settings: {
      'poll.interval.ms': '10',
      'max.batch.size': '4096',
      'max.queue.size': '16384',
    },
  },
};

const VARIANT_NAMES = Object.keys(DEBEZIUM_VARIANTS);

const TABLE = {
  /** Which relays to run, in this order. */
  relays: {
    flag: 'relays',
    arg: 'LIST',
    doc: 'baseline,debezium,polling',
    default: ['baseline', 'debezium', 'polling'] as RelayKind[],
    parse: oneOf<RelayKind>(['baseline', 'debezium', 'polling'], 'relay'),
    shown: 'default: all three',
  },
  /** Steady rates in events/s; each runs for durationS seconds. */
  rates: { flag: 'rates', arg: 'LIST', doc: 'steady rates in events/s', default: [200, 1000], parse: positives },
  durationS: { flag: 'duration', arg: 'S', doc: 'seconds per steady rate', default: 10, parse: atLeast(0.1) },
  /** Events of the drain scenario (written while the relay is stopped, then drained); 0 skips drains. */
  backlog: { flag: 'backlog', arg: 'N', doc: 'events drained in the drain scenario, 0 to skip', default: 20_000, parse: atLeast(0) },
  /** Approximate size of each event's JSON payload in bytes. */
  payloadBytes: { flag: 'payload', arg: 'BYTES', doc: 'JSON payload size per event', default: 512, parse: atLeast(0) },
  /**
   * Who writes the steady runs' outbox rows: pgbench (a C client, one INSERT per transaction at the rate,
   * so the writer does not take the CPU the relay needs) or node (the shop's outbox writer through knex).
   * The baseline, which has no outbox, always sends from Node.
   */
  writer: {
    flag: 'writer',
    arg: 'NAME',
    doc: "steady runs' outbox writer: pgbench or node (the shop's outbox writer)",
    default: 'pgbench' as WriterKind,
    parse: (v: string, flag: string): WriterKind => oneOf<WriterKind>(['pgbench', 'node'], 'writer')(v, flag)[0]!,
  },
  /** Events per writer transaction in the steady scenarios (node writer). */
  perTx: { flag: 'per-tx', arg: 'N', doc: 'events per writer transaction, steady scenarios (node writer)', default: 1, parse: atLeast(1) },
  /** Events per writer transaction while writing the backlog. */
  backlogPerTx: { flag: 'backlog-per-tx', arg: 'N', doc: 'events per transaction while writing the backlog', default: 100, parse: atLeast(1) },
  /** Concurrent writer transactions (database connections), either writer. */
  concurrency: { flag: 'concurrency', arg: 'N', doc: 'concurrent writer transactions', default: 8, parse: atLeast(1) },
  /** Polling relay intervals (OUTBOX_POLL_INTERVAL_MS) to run. */
  pollIntervals: { flag: 'poll-intervals', arg: 'LIST', doc: 'polling relay intervals in ms', default: [3000, 100], parse: positives },
  /** OUTBOX_BATCH_SIZE of the polling relay. */
  batchSize: { flag: 'batch-size', arg: 'N', doc: 'polling relay OUTBOX_BATCH_SIZE', default: 500, parse: atLeast(1) },
  /** Debezium variants (keys of DEBEZIUM_VARIANTS) to run; each runs every rate and the drain. */
  debeziumVariants: {
    flag: 'debezium',
    arg: 'LIST',
    doc: `Debezium variants: ${VARIANT_NAMES.join(', ')}`,
    default: VARIANT_NAMES,
    parse: oneOf(VARIANT_NAMES, 'variant'),
    shown: 'default all',
  },
  /** Events written and awaited before each relay's measured runs (not counted). */
  warmup: { flag: 'warmup', arg: 'N', doc: 'events sent and awaited before measuring each relay', default: 50, parse: atLeast(0) },
  /** Longest wait for the last records after the writer stopped (a longer polling interval adds to it). */
  settleS: { flag: 'settle', arg: 'S', doc: 'longest wait for stragglers after writing', default: 20, parse: atLeast(1) },
  ...commonSpecs({
    db: 'bench_relay',
    dbDoc: 'own database; names the connector, slot and topic too',
    name: 'relay',
    shownName: 'default relay; smoke: relay-smoke',
    outDir: RESULTS_DIR,
  }),
};

/** `db` is the bench's own database, also naming the connector, slot, publication and topic. */
export type RelayBenchOptions = DefaultsOf<typeof TABLE> & BenchFields;

// name and outDir first: the order of the options recorded in the results.
const { name, outDir, ...table } = defaultsOf(TABLE);
export const DEFAULTS: RelayBenchOptions = { name, outDir, ...table, command: 'npm run bench -- relay', progress: true };

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

const SMOKE_SWITCH = { flag: 'smoke', doc: 'preset: a few hundred events per scenario (what npm test runs)' };

export const USAGE = usage('npm run bench -- relay [options]', TABLE, 26, [SMOKE_SWITCH]);

export const parseRelayArgs = (argv: string[]) =>
  parseOptions(argv, { table: TABLE, defaults: DEFAULTS, command: DEFAULTS.command, presets: { [SMOKE_SWITCH.flag]: SMOKE } });
