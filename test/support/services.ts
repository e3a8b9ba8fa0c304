// Starting services in-process on port 0 for integration tests, with migrations applied.
import { createLogger } from '@qtshop/shared';
import { migrateAll } from '../../scripts/migrate';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { startCatalog, type CatalogService } from '../../services/catalog/src/service';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { startInventory } from '../../services/inventory/src/service';
import { loadOrderCommandConfig } from '../../services/order-command/src/config';
import { startOrderCommand } from '../../services/order-command/src/service';
import { loadOrderQueryConfig } from '../../services/order-query/src/config';
import { startOrderQuery } from '../../services/order-query/src/service';

export const ADMIN = { authorization: 'Bearer dev-admin-token' };
export const quiet = createLogger('test', 'silent');

export async function catalogForTest(): Promise<CatalogService & { url: string }> {
  await migrateAll(['catalog']);
  const svc = await startCatalog(loadCatalogConfig({ ...process.env, ADMIN_TOKEN: 'dev-admin-token' }), quiet, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
}

export async function inventoryForTest(): Promise<CatalogService & { url: string }> {
  await migrateAll(['inventory']);
  const svc = await startInventory(loadInventoryConfig({ ...process.env, ADMIN_TOKEN: 'dev-admin-token' }), quiet, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
}

export async function orderCommandForTest(): Promise<CatalogService & { url: string }> {
  await migrateAll(['orders']);
  const svc = await startOrderCommand(loadOrderCommandConfig(process.env), quiet, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
}

export async function orderQueryForTest(): Promise<CatalogService & { url: string }> {
  await migrateAll(['order_query']);
  const svc = await startOrderQuery(loadOrderQueryConfig(process.env), quiet, 0);
  return { ...svc, url: `http://127.0.0.1:${svc.port}` };
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
