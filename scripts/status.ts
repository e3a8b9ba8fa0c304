// npm run status [-- --json] [-- --watch[=<seconds>]]
// The whole pipeline on one screen: outbox databases (relay mode, connector, slot, undelivered and
// quarantined rows), consumer lag, dead-letter topics, the orders waiting for their stock decision, each
// service's /ready. It reads the same settings as the services (PG_*, KAFKA_BROKERS, CONNECT_URL, the
// services' ports, ORDER_COMMAND_DB, RELAY_*) and its own (statusSettings), so it works against the local
// stack and against infrastructure elsewhere. Exit code 0 when nothing is failing (warnings
// allowed), 1 when something is; --watch refreshes until Ctrl-C.
import { createLogger, env as envSchema, loadConfig, runAsScript } from '@qtshop/shared/platform';
import { createDb, createKafka, loadInfra, type Knex } from '@qtshop/shared/infra';
import { ConnectClient, connectorsByDatabase } from '@qtshop/shared/delivery';
import { collectPipelineStatus, inspectPgNodes, portSettingOf, renderStatus, SHOP_SERVICES, type StatusSources } from '@qtshop/shared/tooling';
import { orderCommandSettings } from '../services/order-command/src/config';
import { pendingOrders } from '../services/order-command/src/store';
import { dlqTopicsOf, lagGroupsOf, loadRelayConfig } from '../services/relay/src/config';
import { SERVICE_SETTINGS } from './service-settings';

const USAGE = `usage: npm run status [-- --json] [-- --watch[=<seconds>]]

  --json            print the status as JSON (one line per refresh with --watch)
  --watch[=<s>]     refresh every <s> seconds (default 2) until Ctrl-C

Exit code: 0 when nothing is failing (warnings allowed), 1 when something is.
`;
const log = createLogger('status');

/** npm run status's own settings; everything else it reads from the services' settings. */
export const statusSettings = {
  STATUS_ORDER_PENDING_WARN_MS: {
    doc: 'npm run status warns when an order has waited longer than this for its stock decision (normally well under a second; seconds under load)',
    default: '30000',
    schema: envSchema.int(1),
  },
  STATUS_ORDER_PENDING_FAIL_MS: {
    doc: 'npm run status fails when an order has waited longer than this for its stock decision: past the relay repair of both outbox hops (the OrderPendingTooLong alert uses 2 min too)',
    default: '120000',
    schema: envSchema.int(1),
  },
};

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
  const own = loadConfig(statusSettings, env);
  // Only the key it needs: the rest of order-command's settings are the service's business.
  const ordersDb = loadConfig({ ORDER_COMMAND_DB: orderCommandSettings.ORDER_COMMAND_DB }, env).ORDER_COMMAND_DB;
  const dbs = new Map<string, Knex>();
  /** One pool per database, the orders database's shared with its outbox's when it is one. */
  const pool = (d: string): Knex => {
    let db = dbs.get(d);
    if (!db) dbs.set(d, (db = createDb(infra, d, { max: 2 }, 'qtshop-status')));
    return db;
  };
  return {
    relayMode: relay.RELAY_MODE,
    ...(infra.pg.nodes.length ? { pgNodes: () => inspectPgNodes(infra) } : {}),
    databases: relay.OUTBOX_DATABASES,
    db: pool,
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
    orders: {
      database: ordersDb,
      observe: () => pendingOrders(pool(ordersDb)),
      warnAfterMs: own.STATUS_ORDER_PENDING_WARN_MS,
      failAfterMs: own.STATUS_ORDER_PENDING_FAIL_MS,
    },
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
