// A request whose store is unavailable for a moment (PostgreSQL restarting or failing over, the pool unable
// to connect) is answered 503 `unavailable` with Retry-After, not 500; any other error stays a 500.
import type { Server } from 'node:http';
import { createLogger } from '@qtshop/shared/platform';
import { closeServer, createHttpApp, listen } from '@qtshop/shared/http';
import { isTransient } from '@qtshop/shared/infra';

const log = createLogger('test', 'silent');
let server: Server;
let base: string;

beforeAll(async () => {
  const http = createHttpApp({ name: 'test', log, routers: [], readiness: {}, unavailable: isTransient });
  http.app.use(async (ctx) => {
    if (ctx.path === '/admin-shutdown') throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    if (ctx.path === '/standby') throw Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' });
    if (ctx.path === '/refused') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55432'), { code: 'ECONNREFUSED' });
    if (ctx.path === '/bug') throw new TypeError('x is undefined');
  });
  const listening = await listen(http.app, 0);
  server = listening.server;
  base = `http://127.0.0.1:${listening.port}`;
});

afterAll(() => closeServer(server, 0));

describe('a store unavailable for a moment', () => {
  it.each(['/admin-shutdown', '/standby', '/refused'])('%s: 503 unavailable with Retry-After', async (path) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('retry shortly') as unknown } });
  });

  it('leaves any other error a 500 internal', async () => {
    const res = await fetch(`${base}/bug`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });
});
