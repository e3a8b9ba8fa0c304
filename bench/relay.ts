// Relay benchmark: Debezium CDC against the polling relay against kafkajs straight to Kafka.
//
// One process writes ProductUpdated events through the real outbox writer (createOutboxWriter, one
// transaction per event unless --per-tx says otherwise), notes when each transaction committed, consumes
// the target topic (in a worker thread) and matches records by their `id` header. Per scenario: sent, received, lost,
// duplicated; commit→consumer latency p50/p90/p99/max; sustained throughput; for the polling relay the
// database cost. Everything runs on its own database, connector, slot and topic, so the shop's connectors
// and topics are never touched. Its parts are in bench/relay/: one adapter per relay (baseline.ts,
// debezium.ts, polling.ts), the runner every relay goes through, the options, the report.
//
//   npm run bench -- relay [--smoke] [--rates 200,1000] [--duration 10] [--backlog 20000] [--payload 512] ...
//   npm run bench -- relay --help
import { benchMain, runAsScript } from './lib/cli-args';
import { runRelayBench } from './relay/bench';
import { parseRelayArgs, USAGE, type RelayBenchOptions } from './relay/options';
import { relayReport } from './relay/report';

export { RESULTS_DIR } from './lib/report';
export { runRelayBench, type RelayBenchOutput } from './relay/bench';
export { benchConnector } from './relay/debezium';
export { DEBEZIUM_VARIANTS, DEFAULTS, parseRelayArgs, SMOKE, type RelayBenchOptions, type RelayKind } from './relay/options';
export { evaluateTargets, relayChart, relayMarkdown } from './relay/report';
export type { ConfirmCost, DbCost, RelayBenchResults, RunResult } from './relay/results';

/** Exits 1 when any run lost an event. */
export const relayMain = (argv: string[]) =>
  benchMain(argv, {
    parse: parseRelayArgs,
    usage: USAGE,
    render: relayReport,
    run: runInterruptible,
    exitCode: (r) => (r.runs.some((x) => x.lost > 0) ? 1 : 0),
  });

/** Runs the benchmark; SIGINT or SIGTERM stops it, still cleaning up what it set up. */
async function runInterruptible(opts: RelayBenchOptions) {
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await runRelayBench(opts, abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

runAsScript(import.meta.url, 'relay benchmark', relayMain);
