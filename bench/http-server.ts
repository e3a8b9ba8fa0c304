// A server for the HTTP benchmark, in its own process so that it does not share an event loop with the
// load generator: `catalog` (the real catalog service on CATALOG_DB) or `koa` (a bare Koa handler returning
// a constant product, the ceiling for reads). Prints {"benchServerPort": N} on a line of its own once listening;
// stops on SIGTERM.
import Koa from 'koa';
import { createLogger, runAsScript } from '@qtshop/shared/platform';
import { loadCatalogConfig } from '../services/catalog/src/config';
import { startCatalog } from '../services/catalog/src/service';

/** What GET /products/:id returns, as a constant of the same size. */
export const CONSTANT_PRODUCT = {
  id: '6f1c2a52-4a8e-4d1b-9a57-0c1f3e8b2d44',
  name: 'Bench kettle',
  description: 'Stainless steel, 1.7 l',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: 'https://img.example/kettle.png',
  price: 2599,
  quantity: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

async function main(mode: string | undefined): Promise<void> {
  let stop: () => Promise<void>;
  let port: number;
  if (mode === 'catalog') {
    const svc = await startCatalog(loadCatalogConfig(), createLogger('bench-catalog', 'error'), 0);
    port = svc.port;
    stop = () => svc.stop();
  } else if (mode === 'koa') {
    const app = new Koa();
    app.use((ctx) => {
      ctx.body = CONSTANT_PRODUCT;
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    port = (server.address() as { port: number }).port;
    stop = () => new Promise<void>((r) => server.close(() => r()));
  } else {
    throw new Error(`usage: http-server.ts catalog|koa (got ${mode})`);
  }
  process.stdout.write(`${JSON.stringify({ benchServerPort: port })}\n`);
  const shutdown = () => {
    stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

runAsScript(import.meta.url, 'bench server', ([mode]) => main(mode));
