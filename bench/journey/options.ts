// The journey benchmark's options, declared once (bench/lib/options.ts makes the parser, usage and defaults).
import { atLeast, commonSpecs, defaultsOf, parseOptions, positives, toggle, usage, type BenchFields, type DefaultsOf } from '../lib/options';
import { RESULTS_DIR } from '../lib/report';

const TABLE = {
  /** Closed loop: this many clients, each placing its next order when the last one answered. */
  clients: { flag: 'clients', arg: 'LIST', doc: 'closed-loop runs: concurrent clients', default: [4, 16, 32], parse: positives },
  /** Open loop: orders sent at this rate whatever the answers (Poisson arrivals). */
  rates: { flag: 'rates', arg: 'LIST', doc: 'open-loop runs: orders/s offered', default: [50, 100, 200], parse: positives },
  /**
   * The overload run: orders offered at this many times the best confirmed rate of the runs before it (open
   * loop), to show what order admission refuses and how late the accepted orders are; 0 skips it.
   */
  overload: {
    flag: 'overload',
    arg: 'X',
    doc: 'overload run: offered rate as a multiple of the best confirmed rate, 0 to skip',
    default: 2,
    parse: atLeast(0),
  },
  durationS: { flag: 'duration', arg: 'S', doc: 'seconds of orders per run', default: 15, parse: atLeast(0.5) },
  warmupS: { flag: 'warmup', arg: 'S', doc: 'seconds of unmeasured orders before the first run', default: 5, parse: atLeast(0) },
  /** Products orders are spread over (one line each, quantity 1; stock enough for every order). */
  products: { flag: 'products', arg: 'N', doc: 'products the orders are spread over', default: 200, parse: atLeast(1) },
  /** Longest wait, after a run's last order, for every order to be confirmed in order-query. */
  settleS: { flag: 'settle', arg: 'S', doc: 'longest wait for the last confirmations of a run', default: 120, parse: atLeast(1) },
  ceilingS: { flag: 'ceiling-duration', arg: 'S', doc: 'seconds of pgbench per database for the ceiling, 0 to skip', default: 10, parse: atLeast(0) },
  ceilingClients: { flag: 'ceiling-clients', arg: 'N', doc: 'pgbench clients for the ceiling', default: 8, parse: atLeast(1) },
  /** Seconds of the idle measurement (the shop running, nothing sent); 0 skips it. */
  idleS: { flag: 'idle', arg: 'S', doc: 'seconds of the idle-cost measurement, 0 to skip', default: 30, parse: atLeast(0) },
  /**
   * The profile: instead of the runs, one open-loop run at the first of --rates with the services under the
   * CPU profiler, PostgreSQL's CPU by role and its statements (pg_stat_statements) measured over that run;
   * no closed-loop, overload, idle or ceiling measurement. Results journey-profile.
   */
  profile: toggle(
    'profile',
    "one open-loop run at the first of --rates, profiled: each service's CPU profile, PostgreSQL's CPU by role and its top statements; " +
      'nothing else is run (results journey-profile; profiling slows the services)',
    { name: 'journey-profile' },
  ),
  ...commonSpecs({
    db: 'bench_journey',
    dbDoc: "prefix of the ceiling's own databases (<prefix>_orders, …)",
    name: 'journey',
    shownName: 'default journey; smoke: journey-smoke; profile: journey-profile',
    outDir: RESULTS_DIR,
  }),
};

export type JourneyBenchOptions = DefaultsOf<typeof TABLE> & BenchFields;

// name and outDir first: the order of the options recorded in the results.
const { name, outDir, ...table } = defaultsOf(TABLE);
export const JOURNEY_DEFAULTS: JourneyBenchOptions = { name, outDir, ...table, command: 'npm run bench -- journey', progress: true };

/** A few seconds of each kind of run: for `npm test`. */
export const JOURNEY_SMOKE: Partial<JourneyBenchOptions> = {
  name: 'journey-smoke',
  clients: [4],
  rates: [20],
  overload: 2,
  durationS: 2,
  warmupS: 1,
  products: 20,
  settleS: 60,
  ceilingS: 1,
  ceilingClients: 2,
  idleS: 2,
  db: 'bench_journey_smoke',
};

const SMOKE_SWITCH = { flag: 'smoke', doc: 'preset: a few seconds of each kind of run (what npm test runs)' };

export const USAGE = usage('npm run bench -- journey [options]', TABLE, 28, [SMOKE_SWITCH]);

export const parseJourneyArgs = (argv: string[]) =>
  parseOptions(argv, { table: TABLE, defaults: JOURNEY_DEFAULTS, command: JOURNEY_DEFAULTS.command, presets: { [SMOKE_SWITCH.flag]: JOURNEY_SMOKE } });
