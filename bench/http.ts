// HTTP benchmark: autocannon against the catalog service's GET /products/:id and POST /products
// (product insert + outbox insert in one transaction), each beside its ceiling on this machine:
//   - POST beside pgbench running that very transaction (bench/pgbench/create-product.sql: same tables,
//     same database, same client count);
//   - GET beside a bare Koa handler returning a constant product.
// The servers run in their own process (bench/http-server.ts); the catalog uses its own database
// (bench_catalog, migrated like catalog) and consumer group, so the shop's data is never touched.
// Its parts are in bench/http/: options, servers (and pgbench), the run, the report.
//
//   npm run bench -- http [--connections 10] [--duration 10] [--warmup 2] [--seed 1000] ...
import { benchMain, runAsScript } from './lib/cli-args';
import { parseHttpArgs, USAGE } from './http/options';
import { httpReport } from './http/report';
import { runHttpBench } from './http/run';

export { HTTP_DEFAULTS, parseHttpArgs, type HttpBenchOptions, type HttpTarget } from './http/options';
export { evaluateHttpTargets, httpChart, httpMarkdown, type HttpBenchResults, type HttpRow } from './http/report';
export { runHttpBench } from './http/run';
export { pgbenchAvailable } from './lib/pgbench';

export const httpMain = (argv: string[]) => benchMain(argv, { parse: parseHttpArgs, usage: USAGE, render: httpReport, run: runHttpBench });

runAsScript(import.meta.url, 'http benchmark', httpMain);
