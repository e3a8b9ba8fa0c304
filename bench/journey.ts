// Order journey benchmark: orders placed through POST /orders against a shop it starts on the
// local stack, until order-query has each one Confirmed: orders/s placed and confirmed, latency POST →
// Confirmed, CPU per order by process, the idle shop's CPU, and beside them the PostgreSQL-only ceiling
// (pgbench running the journey's statements). Its parts are in bench/journey/.
//
//   npm run bench -- journey [--smoke] [--clients 4,16,32] [--rates 50,100,200] [--duration 15] ...
//   npm run bench -- journey --profile --rates 100 --duration 30   (one run, profiled: bench/journey/profile.ts)
import { benchMain, runAsScript } from './lib/cli-args';
import { parseJourneyArgs, USAGE } from './journey/options';
import { journeyReport } from './journey/report';
import { runJourneyBench } from './journey/run';

export { combinedRate } from './journey/ceiling';
export { JOURNEY_DEFAULTS, JOURNEY_SMOKE, parseJourneyArgs, type JourneyBenchOptions } from './journey/options';
export { evaluateJourneyTargets, journeyChart, journeyMarkdown, type JourneyBenchResults } from './journey/report';
export { runJourneyBench } from './journey/run';

/** Exits 1 when an order was lost: placed, yet never settled in order-query. */
export const journeyMain = (argv: string[]) =>
  benchMain(argv, {
    parse: parseJourneyArgs,
    usage: USAGE,
    render: journeyReport,
    run: runJourneyBench,
    exitCode: (r) => (r.rows.some((x) => x.pending > 0) ? 1 : 0),
  });

runAsScript(import.meta.url, 'journey benchmark', journeyMain);
