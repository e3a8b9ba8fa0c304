// Starting services in-process on port 0 for integration tests, with migrations applied; they log nothing
// unless given a logger.
import { createLogger, loadConfig, type Logger } from '@qtshop/shared/platform';
import { createKafka, loadInfra } from '@qtshop/shared/infra';
import { authSettings, issueToken } from '@qtshop/shared/http';
import type { RunningService } from '@qtshop/shared/service';
import { migrateLatest } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../../migrations';
import { migrateAll } from '../../scripts/migrate';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { startCatalog, type CatalogService } from '../../services/catalog/src/service';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { startInventory } from '../../services/inventory/src/service';
import { loadOrderCommandConfig } from '../../services/order-command/src/config';
import { ORDER_COMMAND_TOPICS } from '../../services/order-command/src/consumers';
import { startOrderCommand } from '../../services/order-command/src/service';
import { loadOrderQueryConfig } from '../../services/order-query/src/config';
import { startOrderQuery } from '../../services/order-query/src/service';
import { groupAtTheEnd } from './kafka';
import { scratchDb, type ScratchDb } from './scratch';

export const ADMIN = { authorization: 'Bearer dev-admin-token' };
export const quiet = createLogger('test', 'silent');

export async function catalogForTest(log: Logger = quiet): Promise<CatalogService & { url: string }> {
  await migrateAll(['catalog']);
  const svc = await startCatalog(loadCatalogConfig({ ...process.env, ADMIN_TOKEN: 'dev-admin-token' }), log, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
}

export async function inventoryForTest(log: Logger = quiet): Promise<CatalogService & { url: string }> {
  await migrateAll(['inventory']);
  const svc = await startInventory(loadInventoryConfig({ ...process.env, ADMIN_TOKEN: 'dev-admin-token' }), log, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
}

/**
 * Admission off (ORDER_ADMISSION_MAX_PENDING_AGE_MS=0) unless the test turns it on: these tests run
 * order-command without inventory, or on the shared orders database where other tests' orders still wait for
 * a decision that is not coming, so its backlog says nothing about load (test/orders/admission.int.test.ts
 * turns it on).
 */
const ADMISSION_OFF = { ORDER_ADMISSION_MAX_PENDING_AGE_MS: '0' };

export async function orderCommandForTest(env: Record<string, string> = {}, log: Logger = quiet): Promise<CatalogService & { url: string }> {
  await migrateAll(['orders']);
  const svc = await startOrderCommand(loadOrderCommandConfig({ ...process.env, ...ADMISSION_OFF, ...env }), log, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
}

export async function orderQueryForTest(env: Record<string, string> = {}, log: Logger = quiet): Promise<CatalogService & { url: string }> {
  await migrateAll(['order_query']);
  const svc = await startOrderQuery(loadOrderQueryConfig({ ...process.env, ...env }), log, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
}

/** `http` with the admin token, which acts for every customer on the shopper routes (baskets, orders) and is not rate limited. */
export const asAdmin = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => http(method, url, body, { ...ADMIN, ...headers });

/** The Authorization header of `customer`'s development token (as `npm run token` prints it). */
export async function shopper(customer: string, opts: Parameters<typeof issueToken>[2] = {}): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await issueToken(loadConfig(authSettings), customer, opts)}` };
}

export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/**
 * order-command on a scratch orders database (migrated) whose outbox nobody relays, consuming with a group
 * of its own that starts at the topics' ends: no stock decision arrives unless the test appends it.
 */
export async function orderCommandOnScratch(
  name: string,
  env: Record<string, string> = {},
): Promise<{ scratch: ScratchDb; svc: RunningService; url: string; stop(): Promise<void> }> {
  const scratch = await scratchDb(name);
  await migrateLatest(scratch.db, MIGRATIONS.orders);
  const kafka = createKafka(loadInfra().kafka, `test-${name}`);
  const groupId = await groupAtTheEnd(kafka, ORDER_COMMAND_TOPICS, `qtshop-order-command-test-${name}`);
  const svc = await startOrderCommand(
    loadOrderCommandConfig({
      ...process.env,
      ...ADMISSION_OFF,
      ADMIN_TOKEN: 'dev-admin-token',
      ORDER_COMMAND_DB: scratch.name,
      ORDER_COMMAND_GROUP: groupId,
      ...env,
    }),
    quiet,
    0,
  );
  return {
    scratch,
    svc,
    url: `http://127.0.0.1:${svc.port}`,
    async stop() {
      await svc.stop();
      await scratch.drop();
    },
  };
}
