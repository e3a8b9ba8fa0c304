// npm start [-- --replicas N]: the whole shop on the local stack, in the foreground.
// Brings the stack up, applies migrations, sets up the relay mode (RELAY_MODE=debezium registers the
// connectors; polling removes them and the relay publishes), starts every service and the relay (N
// instances of each with --replicas or SHOP_REPLICAS), waits until each /ready is green and prints where
// everything is. Ctrl-C stops the services; the stack keeps running (`npm run stack -- down` stops it).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, env, GiveUp, loadConfig, waitUntil, runAsScript, stopTimeoutMs } from '@qtshop/shared/platform';
import { addressEnv, createDb, loadInfra, withoutIdentity } from '@qtshop/shared/infra';
import { httpSettings, httpShutdown } from '@qtshop/shared/http';
import { ConnectClient, connectorFiles, readConnectorFile, registerConnector, removeConnector, type ConnectorConfig } from '@qtshop/shared/delivery';
import { formatTable, portSettingOf, SHOP_SERVICES, type ShopService } from '@qtshop/shared/tooling';
import { loadRelayConfig } from '../services/relay/src/config';
import { createRelay } from '../services/relay/src/relay';
import { loadStackConfig, repoRoot } from '../stack/config';
import { isAlive, livePid, portInUse, removeFile, stopPid, tailFile } from '../stack/procs';
import { migrateAll } from './migrate';
import { SERVICE_SETTINGS } from './service-settings';

const t0 = Date.now();
const say = (msg: string) => process.stdout.write(`[shop +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
const quiet = createLogger('shop', 'warn');

export const shopSettings = {
  QTSHOP_STACK: {
    doc: 'Infrastructure npm start (and the e2e suite) uses: local starts the local stack; containers and external use the addresses in PG_HOST, KAFKA_BROKERS, CONNECT_URL, MONGO_URL',
    default: 'local',
    schema: env.oneOf(['local', 'containers', 'external'] as const),
  },
  SHOP_RESTART_BACKOFF_MS: {
    doc: 'npm start restarts a service that exits unexpectedly after this long, doubling for each quick exit (up to 30 s)',
    default: '1000',
    schema: env.int(1),
  },
  SHOP_REPLICAS: {
    doc: "Instances npm start runs of each service and of the relay (npm start -- --replicas N says the same): a service's instances share its consumer group, so its topics' partitions (STACK_KAFKA_PARTITIONS) are spread over them; the relays keep one active per outbox database, the others on standby",
    default: '1',
    schema: env.int(1),
  },
  SHOP_REPLICA_PORT_STEP: {
    doc: 'Instance n of a service (n from 1) listens on its port setting + (n-1) × this, e.g. inventory 3002, 3102, 3202',
    default: '100',
    schema: env.int(1),
  },
};

const stack = loadStackConfig();
const relayConfig = loadRelayConfig();
const mode = relayConfig.RELAY_MODE;

/** One running copy of a service: `inventory` (instance 1, the service's own port) or `inventory-2`, … */
export interface Instance {
  service: ShopService;
  /** 1-based. */
  instance: number;
  /** The service's name for instance 1, `<service>-<n>` after it: its pid file, its log, its line in the table. */
  name: string;
  port: number;
}

/** The instances npm start runs: `replicas` of each service, instance n on the service's port + (n-1) × step. */
export function instancesOf(replicas: number, step: number, e: NodeJS.ProcessEnv = process.env): Instance[] {
  return SHOP_SERVICES.flatMap((service) => {
    const base = Number(loadConfig(SERVICE_SETTINGS[service], e)[portSettingOf(service)]);
    return Array.from({ length: replicas }, (_, i) => ({
      service,
      instance: i + 1,
      name: i === 0 ? service : `${service}-${i + 1}`,
      port: base + i * step,
    }));
  });
}

type Service = Instance;
let SERVICES: Instance[] = [];

const mainOf = (s: Service) => resolve(repoRoot, 'services', s.service, 'src/main.ts');
const pidFileOf = (s: Service) => resolve(stack.paths.run, `shop-${s.name}.pid`);
const logFileOf = (s: Service) => resolve(stack.paths.logs, `${s.name}.log`);
const lastModeFile = resolve(stack.paths.run, 'relay-mode');
const url = (s: Service) => `http://127.0.0.1:${s.port}`;

class ShopError extends Error {}

function printTable(): void {
  const rows = [
    ...SERVICES.map((s) => [s.name, url(s), `${url(s)}/ready`]),
    ...stack.infra.connect.url.split(',').map((u, i, all) => [all.length > 1 ? `kafka-connect-${i + 1}` : 'kafka-connect', u, `${u}/connectors`]),
  ];
  process.stdout.write(
    `\n${formatTable(rows).join('\n')}\n\nrelay mode: ${mode}   kafka: ${stack.infra.kafka.brokers.join(',')}   logs: npm run stack -- logs <service>\n\n`,
  );
}

async function run(cmd: string, args: string[]): Promise<void> {
  const code = await new Promise<number>((r) => spawn(cmd, args, { cwd: repoRoot, stdio: 'inherit' }).on('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new ShopError(`${[cmd, ...args].join(' ')} failed (exit ${code})`);
}

/** Sets up the relay mode. Switching polling -> debezium drains what polling had not sent before the slots existed. */
async function setUpRelayMode(): Promise<void> {
  const infra = loadInfra();
  const connect = ConnectClient.of(infra.connect);
  const admin = createDb(infra, 'postgres', { max: 1 });
  const connectors: ConnectorConfig[] = connectorFiles().map(readConnectorFile);
  const lastMode = existsSync(lastModeFile) ? readFileSync(lastModeFile, 'utf8').trim() : undefined;
  try {
    for (const c of connectors) {
      if (mode === 'debezium') {
        say(`registering connector ${c.name}`);
        await registerConnector(connect, admin, c);
      } else {
        await removeConnector(connect, admin, c);
        say(`connector ${c.name} removed (polling mode)`);
      }
    }
  } finally {
    await admin.destroy();
  }
  if (mode === 'debezium' && lastMode === 'polling') {
    // Rows committed before the slots existed and not yet polled would never be streamed: publish them now.
    say('switching from polling: draining rows the polling relay had not sent yet');
    const since = new Date();
    const drain = createRelay({ ...relayConfig, RELAY_PORT: 0, RELAY_MODE: 'polling', OUTBOX_POLL_INTERVAL_MS: 100 }, { log: quiet });
    await drain.start();
    try {
      for (const database of relayConfig.OUTBOX_DATABASES) {
        const db = createDb(infra, database, { max: 1 });
        try {
          await waitUntil(
            // Quarantined rows wait for an operator (npm run outbox -- retry), in either mode: not for this drain.
            async () =>
              Number(
                (await db('outbox').whereNull('sent_at').whereNull('quarantined_at').where('created_at', '<', since).count<{ c: string }[]>({ c: '*' }))[0]!.c,
              ) === 0,
            {
              timeoutMs: 120_000,
              what: `the ${database} outbox to drain`,
            },
          );
        } finally {
          await db.destroy();
        }
      }
    } finally {
      await drain.stop();
    }
  }
  if (mode === 'polling' && lastMode !== 'polling') {
    say('polling mode: rows Debezium already streamed and the janitor has not deleted are published once more; consumers deduplicate them by event id');
  }
  mkdirSync(stack.paths.run, { recursive: true });
  writeFileSync(lastModeFile, `${mode}\n`);
}

function start(s: Service): ChildProcess {
  mkdirSync(stack.paths.logs, { recursive: true });
  // The instance writes its output to its log file itself (opened for appending, handed over as its stdout
  // and stderr): nothing passes through this process, and an instance goes on logging if this process dies.
  // Copying the output from pipes cost this process 0.2-0.6 ms of CPU per order in the journey benchmark.
  const log = openSync(resolve(logFileOf(s)), 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--import', 'tsx', mainOf(s)], {
      cwd: repoRoot,
      // Every instance gets its own port; the rest of its settings (consumer group, database) are the service's.
      // The stack's addresses (every broker, every Connect worker) are passed on: a service does not read the stack's shape.
      env: { ...withoutIdentity(process.env), ...addressEnv(stack.infra), RELAY_MODE: mode, [portSettingOf(s.service)]: String(s.port) },
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log); // the child holds its own copy
  }
  writeFileSync(pidFileOf(s), `${child.pid}\n`);
  return child;
}

/**
 * The names of the service instances whose pid file names a live process of that service (any number of
 * replicas), in the services' order, then by instance.
 */
function runningInstances(): string[] {
  if (!existsSync(stack.paths.run)) return [];
  const files = new Set(readdirSync(stack.paths.run));
  return SHOP_SERVICES.flatMap((service) => {
    const names = [...files]
      .map((f) => /^shop-(.+)\.pid$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined && (n === service || new RegExp(`^${service}-(\\d+)$`).test(n)))
      .sort((a, b) => (a === service ? 1 : Number(a.slice(service.length + 1))) - (b === service ? 1 : Number(b.slice(service.length + 1))));
    return names.filter((n) => livePid(resolve(stack.paths.run, `shop-${n}.pid`), resolve(repoRoot, 'services', service, 'src/main.ts')) !== undefined);
  });
}

async function ready(s: Service): Promise<boolean> {
  const res = await fetch(`${url(s)}/ready`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

async function stopAll(children: Map<Service, ChildProcess>): Promise<void> {
  // Longer than a service, with the settings it inherits from here, takes before it gives up by itself.
  const { HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS } = httpSettings;
  const waitMs = stopTimeoutMs(httpShutdown(loadConfig({ HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS }))) + 5_000;
  await Promise.all(
    [...children].map(async ([s, c]) => {
      if (c.pid && isAlive(c.pid)) await stopPid(c.pid, 'SIGTERM', waitMs);
      removeFile(pidFileOf(s));
    }),
  );
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { replicas: { type: 'string' } } });
  const shop = loadConfig(shopSettings, values.replicas === undefined ? process.env : { ...process.env, SHOP_REPLICAS: values.replicas });
  SERVICES = instancesOf(shop.SHOP_REPLICAS, shop.SHOP_REPLICA_PORT_STEP);
  if (shop.SHOP_REPLICAS > stack.partitions)
    say(
      `${shop.SHOP_REPLICAS} instances per service, ${stack.partitions} partitions per topic: ${shop.SHOP_REPLICAS - stack.partitions} instance(s) of each service will consume nothing (raise STACK_KAFKA_PARTITIONS on a fresh stack)`,
    );
  // Any instance counts, whatever --replicas the running shop was started with.
  const running = runningInstances();
  if (running.length) {
    say(`the shop is already running (${running.join(', ')}); not starting a second copy`);
    printTable();
    return 0;
  }
  for (const s of SERVICES) {
    if (await portInUse(s.port))
      throw new ShopError(`${s.name}: port ${s.port} is already in use by another process; free it or set its port variable (see docs/configuration.md)`);
  }

  if (shop.QTSHOP_STACK === 'local') {
    say('starting the local stack');
    await run(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'stack/cli.ts'), 'up']);
  }
  say('applying migrations');
  await migrateAll([], quiet);
  say(`relay mode: ${mode}`);
  await setUpRelayMode();

  const children = new Map<Service, ChildProcess>();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the services (the stack keeps running; npm run stack -- down stops it)`);
    await stopAll(children);
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  for (const s of SERVICES) {
    const child = start(s);
    children.set(s, child);
    say(`${s.name}: started (pid ${child.pid}, port ${s.port})`);
  }
  const timeoutMs = stack.readyTimeoutMs;
  const results = await Promise.all(
    SERVICES.map(async (s) => {
      const child = children.get(s)!;
      const ok = await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new GiveUp('exited');
          return ready(s);
        },
        { timeoutMs, what: `${s.name} /ready`, everyMs: 250 },
      ).then(
        () => true,
        () => false,
      );
      if (ok) say(`${s.name}: ready`);
      return { s, ok };
    }),
  );
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    for (const { s } of failed) {
      process.stderr.write(
        `\n${s.name} did not become ready (${children.get(s)!.exitCode !== null ? 'it exited' : `${timeoutMs} ms`}); last lines of ${logFileOf(s)}:\n${tailFile(logFileOf(s), 30)}\n`,
      );
    }
    stopping = true;
    await stopAll(children);
    throw new ShopError(`not ready: ${failed.map((f) => f.s.name).join(', ')}; everything this run started has been stopped`);
  }
  say(`the shop is up in ${((Date.now() - t0) / 1000).toFixed(1)}s (Ctrl-C stops the services)`);
  printTable();
  // Stay in the foreground; a service that dies unexpectedly is started again, with a backoff that
  // doubles from SHOP_RESTART_BACKOFF_MS up to 30 s and starts over once it has run for a minute.
  const supervise = (s: Service, child: ChildProcess, backoffMs: number) => {
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (stopping) return;
      const delay = Date.now() - startedAt > 60_000 ? shop.SHOP_RESTART_BACKOFF_MS : backoffMs;
      say(`${s.name} exited (${signal ?? `code ${code}`}); restarting it in ${(delay / 1000).toFixed(1)}s (logs: npm run stack -- logs ${s.name})`);
      setTimeout(() => {
        if (stopping) return;
        const next = start(s);
        children.set(s, next);
        say(`${s.name}: restarted (pid ${next.pid})`);
        supervise(s, next, Math.min(delay * 2, 30_000));
      }, delay);
    });
  };
  for (const [s, c] of children) supervise(s, c, shop.SHOP_RESTART_BACKOFF_MS);
  return new Promise<number>(() => undefined);
}

runAsScript(import.meta.url, 'shop', main, {
  report: (err) =>
    process.stderr.write(`[shop] error: ${err instanceof ShopError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
});
