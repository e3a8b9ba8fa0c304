// Helpers for the delivery-guarantee suites: a debezium-mode relay in-process with short thresholds,
// reading its metrics, writing products and waiting for inventory to have them.
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createLogger, waitUntil, type Logger } from '@qtshop/shared/platform';
import { createDb, loadInfra, type Knex } from '@qtshop/shared/infra';
import { loadRelayConfig, type RelayConfig } from '../../services/relay/src/config';
import { createRelay, type Relay, type RelayDeps } from '../../services/relay/src/relay';
import { useRelay, type OutboxDb, type RelayMode } from '../support/relay';
import { ADMIN, catalogForTest, http, inventoryForTest, quiet } from '../support/services';

export const REPAIR_AFTER_MS = 3000;
const root = resolve(import.meta.dirname, '../..');

/** Debezium mode's relay (confirmer, repairer, supervisor) with thresholds short enough for a test. */
export async function debeziumRelay(databases: string[], overrides: Partial<RelayConfig> = {}, deps: RelayDeps = {}): Promise<Relay> {
  const relay = createRelay(
    {
      ...loadRelayConfig(),
      RELAY_PORT: 0,
      RELAY_MODE: 'debezium',
      OUTBOX_DATABASES: databases,
      OUTBOX_POLL_INTERVAL_MS: 200,
      OUTBOX_REPAIR_AFTER_MS: REPAIR_AFTER_MS,
      RELAY_SUPERVISE_INTERVAL_MS: 500,
      CONNECT_RESTART_BACKOFF_MS: 1000,
      ...overrides,
    },
    { log: quiet, ...deps },
  );
  await relay.start();
  return relay;
}

/** The relay's /ready answer and the sentence of one of its checks (`outbox:<database>`, `kafka`). */
export async function readyCheck(relay: Relay, check: string): Promise<{ status: number; check: string | undefined }> {
  const res = await fetch(`http://127.0.0.1:${relay.port}/ready`);
  const body = (await res.json()) as { checks?: Record<string, string> };
  return { status: res.status, check: body.checks?.[check] };
}

/** A logger keeping its lines (warn and above), parsed, in `lines`: for asserting what the relay said. */
export function keptLog(lines: Array<Record<string, unknown>>): Logger {
  return createLogger('relay-test', 'warn', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
}

/** The value of a relay counter or gauge for `labels` (0 when it has no such series yet). */
export async function metric(relay: Relay, name: string, labels: Record<string, string>): Promise<number> {
  const m = relay.registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const { values } = await m.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l));
  return hit?.value ?? 0;
}

export function productFields(name = `Kettle ${randomUUID()}`) {
  return { name, description: 'Enamel', type: 'kitchen', brand: 'Emalj', pictureUrl: '', price: 3100 };
}

/** Creates `n` products through catalog's API, `concurrency` at a time; returns their ids in creation order. */
export async function createProducts(catalogUrl: string, n: number, concurrency = 8, onEach?: (done: number) => Promise<void> | void): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        const res = await http('POST', `${catalogUrl}/products`, productFields(), ADMIN);
        if (res.status !== 201) throw new Error(`POST /products: ${res.status} ${res.text}`);
        ids.push(res.json.id as string);
        await onEach?.(ids.length);
      }
    }),
  );
  return ids;
}

/** Waits until inventory holds a row for every id; returns how many it found when it gives up (in the error). */
export async function waitInInventory(inventoryDb: Knex, ids: string[], timeoutMs: number): Promise<void> {
  let found = 0;
  await waitUntil(
    async () => {
      found = 0;
      for (let i = 0; i < ids.length; i += 1000) {
        const [row] = await inventoryDb('product_inventory')
          .whereIn('product_id', ids.slice(i, i + 1000))
          .count<Array<{ n: string }>>({ n: '*' });
        found += Number(row?.n ?? 0);
      }
      return found === ids.length;
    },
    { timeoutMs, everyMs: 250, what: `inventory to hold all ${ids.length} products` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${found} of ${ids.length} arrived`);
  });
}

/** Runs one of the project's CLIs (`npm run <name> -- args`, through tsx) and returns its exit code and output. */
export function cli(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, script), ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

export const infra = loadInfra();
export const openDb = (name: string) => createDb(infra, name, { max: 2 });

/**
 * Debezium streams again: fresh products are written until one's row is seen on Kafka well before the
 * repair could have published it (the first ones after a restart may still wait for the task to start).
 */
export async function debeziumDelivers(catalogUrl: string, catalogDb: Knex): Promise<void> {
  await waitUntil(
    async () => {
      const [id] = await createProducts(catalogUrl, 1, 1);
      const row = await waitUntil(
        async () =>
          (await catalogDb('outbox').where({ aggregateid: id }).whereNotNull('seen_at').first('created_at', 'seen_at')) as
            { created_at: Date; seen_at: Date } | undefined,
        { timeoutMs: 30_000, what: 'the new row to be seen on Kafka' },
      );
      return row.seen_at.getTime() - row.created_at.getTime() < REPAIR_AFTER_MS / 2;
    },
    { timeoutMs: 60_000, everyMs: 0, what: 'a fresh row delivered by Debezium, well within the repair threshold' },
  );
}

export interface Shop {
  relay: Relay;
  catalog: Awaited<ReturnType<typeof catalogForTest>>;
  inventory: Awaited<ReturnType<typeof inventoryForTest>>;
  stop(): Promise<void>;
}

/**
 * Catalog and inventory in-process with a relay in `mode` for `databases`: in debezium mode the
 * connectors registered and the debezium-mode relay above; in polling mode the connectors removed and
 * the polling relay. stop() leaves the connectors as it found them.
 */
export async function startShop(mode: RelayMode, databases: OutboxDb[], overrides: Partial<RelayConfig> = {}): Promise<Shop> {
  const handle = await useRelay(mode, databases);
  // What started is stopped again when a later part fails: a relay left running would hold the outbox
  // locks (and keep polling after jest tore the file down) under the next test file.
  const started: Array<{ stop(): Promise<void> }> = [handle];
  let relay: Relay;
  let catalog: Awaited<ReturnType<typeof catalogForTest>>;
  let inventory: Awaited<ReturnType<typeof inventoryForTest>>;
  try {
    relay = mode === 'debezium' ? await debeziumRelay(databases, overrides) : handle.relay!;
    if (mode === 'debezium') started.push(relay);
    catalog = await catalogForTest();
    started.push(catalog);
    inventory = await inventoryForTest();
  } catch (err) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    throw err;
  }
  return {
    relay,
    catalog,
    inventory,
    async stop() {
      await inventory.stop();
      await catalog.stop();
      if (mode === 'debezium') await relay.stop();
      await handle.stop();
    },
  };
}
