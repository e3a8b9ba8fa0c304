// npm run status [-- --json] [-- --watch[=<seconds>]]
// The whole pipeline on one screen: outbox databases (relay mode, connector, slot, undelivered and
// quarantined rows), consumer lag, dead-letter topics, each service's /ready. It reads the same settings
// as the services (PG_*, KAFKA_BROKERS, CONNECT_URL, the services' ports, RELAY_*), so it works against
// the local stack and against infrastructure elsewhere. Exit code 0 when nothing is failing (warnings
// allowed), 1 when something is; --watch refreshes until Ctrl-C.
import { ConnectClient, connectorsByDatabase, createDb, createKafka, createLogger, loadConfig, loadInfra, runAsScript, type Knex } from '@qtshop/shared';
import { collectPipelineStatus, portSettingOf, renderStatus, SHOP_SERVICES, type StatusSources } from '@qtshop/shared/tooling';
import { dlqTopicsOf, lagGroupsOf, loadRelayConfig } from '../services/relay/src/config';
import { SERVICE_SETTINGS } from './service-settings';

const USAGE = `usage: npm run status [-- --json] [-- --watch[=<seconds>]]

  --json            print the status as JSON (one line per refresh with --watch)
  --watch[=<s>]     refresh every <s> seconds (default 2) until Ctrl-C

Exit code: 0 when nothing is failing (warnings allowed), 1 when something is.
`;
const log = createLogger('status');

export function parseArgs(argv: string[]): { json: boolean; watchS: number | undefined } | undefined {
  let json = false;
  let watchS: number | undefined;
  for (const a of argv) {
    const watch = /^--watch(?:=(\d+(?:\.\d+)?))?$/.exec(a);
    if (a === '--json') json = true;
    else if (watch) watchS = Number(watch[1] ?? 2);
    else return undefined;
  }
  if (watchS !== undefined && !(watchS > 0)) return undefined;
  return { json, watchS };
}

/** Everything the status reads, from the settings; close() releases the pools. */
export function sourcesFromSettings(env: NodeJS.ProcessEnv = process.env): StatusSources & { close(): Promise<void> } {
  const infra = loadInfra(env);
  const relay = loadRelayConfig(env);
  const dbs = new Map<string, Knex>(relay.OUTBOX_DATABASES.map((d) => [d, createDb(infra, d, { max: 2 }, 'qtshop-status')]));
  return {
    relayMode: relay.RELAY_MODE,
    databases: relay.OUTBOX_DATABASES,
    db: (d) => dbs.get(d)!,
    connect: ConnectClient.of(infra.connect, 5000),
    connectors: connectorsByDatabase(),
    // A status probe waits less than the services may: KAFKA_REQUEST_TIMEOUT_MS capped at 10 s, as Connect's at 5 s.
    kafka: createKafka(infra.kafka, 'qtshop-status', undefined, {
      connectionTimeout: 3000,
      requestTimeout: Math.min(infra.kafka.requestTimeoutMs, 10_000),
      retry: { retries: 1 },
    }),
    groups: lagGroupsOf(relay),
    dlqTopics: dlqTopicsOf(relay),
    services: SHOP_SERVICES.map((name) => ({ name, url: `http://127.0.0.1:${String(loadConfig(SERVICE_SETTINGS[name], env)[portSettingOf(name)])}` })),
    repairAfterMs: relay.OUTBOX_REPAIR_AFTER_MS,
    readyMaxAgeMs: relay.OUTBOX_READY_MAX_AGE_MS,
    close: async () => {
      await Promise.all([...dbs.values()].map((db) => db.destroy()));
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (!args) {
    process.stderr.write(USAGE);
    return 2;
  }
  const src = sourcesFromSettings();
  const colour = !args.json && process.stdout.isTTY === true && !process.env.NO_COLOR;
  try {
    for (;;) {
      const status = await collectPipelineStatus(src);
      if (args.json) process.stdout.write(`${JSON.stringify(status, null, args.watchS === undefined ? 2 : undefined)}\n`);
      else process.stdout.write(`${colour && args.watchS !== undefined ? '\x1b[2J\x1b[H' : ''}${renderStatus(status, colour)}`);
      if (args.watchS === undefined) return status.level === 'bad' ? 1 : 0;
      await new Promise((r) => setTimeout(r, args.watchS! * 1000));
    }
  } finally {
    await src.close();
  }
}

runAsScript(import.meta.url, 'status', main, { report: (err) => log.error({ err }, 'status failed') });
