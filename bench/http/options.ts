// The http benchmark's options, declared once (bench/lib/options.ts makes the parser, usage and defaults).
import { atLeast, commonSpecs, defaultsOf, oneOf, parseOptions, usage, type BenchFields, type DefaultsOf } from '../lib/options';
import { RESULTS_DIR } from '../lib/report';

export type HttpTarget = 'koa' | 'get' | 'post' | 'pgbench';

const TARGETS: HttpTarget[] = ['koa', 'get', 'post', 'pgbench'];

const TABLE = {
  targets: { flag: 'targets', arg: 'LIST', doc: 'koa,get,post,pgbench', default: TARGETS, parse: oneOf(TARGETS, 'target'), shown: 'default: all' },
  /** Concurrent HTTP connections, and pgbench clients. */
  connections: { flag: 'connections', arg: 'N', doc: 'HTTP connections and pgbench clients', default: 10, parse: atLeast(1) },
  /** Measured seconds per target, after `warmupS` unmeasured seconds. */
  durationS: { flag: 'duration', arg: 'S', doc: 'measured seconds per target', default: 10, parse: atLeast(1) },
  warmupS: { flag: 'warmup', arg: 'S', doc: 'unmeasured seconds before each', default: 2, parse: atLeast(0) },
  /** Products created before the GET run; GET requests cycle through them. */
  seed: { flag: 'seed', arg: 'N', doc: 'products created for the GET run', default: 1000, parse: atLeast(1) },
  ...commonSpecs({ db: 'bench_catalog', dbDoc: 'own catalog database', name: 'http', outDir: RESULTS_DIR }),
};

export type HttpBenchOptions = DefaultsOf<typeof TABLE> & BenchFields;

// name and outDir first: the order of the options recorded in the results.
const { name, outDir, ...table } = defaultsOf(TABLE);
export const HTTP_DEFAULTS: HttpBenchOptions = { name, outDir, ...table, command: 'npm run bench -- http', progress: true };

export const USAGE = usage('npm run bench -- http [options]', TABLE, 22);

export const parseHttpArgs = (argv: string[]) => parseOptions(argv, { table: TABLE, defaults: HTTP_DEFAULTS, command: HTTP_DEFAULTS.command });
