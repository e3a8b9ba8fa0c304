// npm run bench -- <relay|http|journey> [options]: the benchmarks. `--help` after a name lists its options.
import { httpMain } from './http';
import { journeyMain } from './journey';
import { runAsScript } from './lib/cli-args';
import { relayMain } from './relay';

const USAGE = `npm run bench -- <benchmark> [options]

  relay   outbox relays: Debezium vs polling vs kafkajs straight to Kafka (bench/relay.ts)
  http    catalog GET/POST vs a bare Koa handler and pgbench (bench/http.ts)
  journey orders placed until confirmed, on a shop it starts, beside a PostgreSQL-only ceiling (bench/journey.ts)

  npm run bench -- relay --help     options of one benchmark
`;

const [name, ...rest] = process.argv.slice(2);
const main = name === 'relay' ? relayMain : name === 'http' ? httpMain : name === 'journey' ? journeyMain : undefined;
if (!main) {
  process.stdout.write(USAGE);
  process.exit(name === undefined || name === '--help' || name === '-h' ? 0 : 1);
}
runAsScript(import.meta.url, `${name} benchmark`, () => main(rest));
