// The drain a signal begins before a server stops (createHttpApp's drain()): /ready fails on a check of its
// own and every answer closes its connection, while the app keeps serving; it ends after the delay. And the
// time a signalled stop allows itself, from the same settings.
import type { Server } from 'node:http';
import { Agent, request } from 'node:http';
import { createLogger, loadConfig, stopTimeoutMs } from '@qtshop/shared/platform';
import { closeServer, createHttpApp, httpSettings, httpShutdown, listen, type HttpApp } from '@qtshop/shared/http';

const log = createLogger('test', 'silent');

interface Answer {
  status: number;
  connection: string | undefined;
  body: { checks?: Record<string, string> };
}

let http: HttpApp;
let server: Server;
let agent: Agent;
let base: string;

const get = (path: string): Promise<Answer> =>
  new Promise((done, fail) => {
    const req = request(`${base}${path}`, { agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(body) as Answer['body'] }));
    });
    req.on('error', fail);
    req.end();
  });

beforeEach(async () => {
  http = createHttpApp({ name: 'test', log, routers: [], readiness: { database: async () => undefined } });
  const listening = await listen(http.app, 0);
  server = listening.server;
  base = `http://127.0.0.1:${listening.port}`;
  agent = new Agent({ keepAlive: true });
});

afterEach(async () => {
  agent.destroy();
  await closeServer(server, 0);
});

describe('HttpApp.drain', () => {
  it('changes nothing until it begins: /ready has only the service checks, answers keep their connection', async () => {
    expect(await get('/ready')).toMatchObject({ status: 200, connection: 'keep-alive', body: { checks: { database: 'ok' } } });
    expect(await get('/health')).toMatchObject({ status: 200, connection: 'keep-alive' });
  });

  it('fails /ready on the shutdown check, saying when the server stops, and closes the connection of every answer while it keeps serving', async () => {
    const drained = http.drain(1000);
    const ready = await get('/ready');
    expect(ready).toMatchObject({ status: 503, connection: 'close' });
    expect(ready.body.checks).toEqual({ database: 'ok', shutdown: expect.stringMatching(/^failing: draining: stopping in \d+ ms$/) as unknown });
    const remaining = Number(/stopping in (\d+) ms/.exec(ready.body.checks!.shutdown!)![1]);
    expect(remaining).toBeGreaterThan(500);
    expect(remaining).toBeLessThanOrEqual(1000);
    expect(await get('/health')).toMatchObject({ status: 200, connection: 'close' });
    expect(await get('/no-such-route')).toMatchObject({ status: 404, connection: 'close' });
    expect(http.drain(1000)).toBe(drained); // a second signal does not start another drain
    await drained;
  });

  it('resolves once the delay has passed', async () => {
    const started = performance.now();
    let done = false;
    const drained = http.drain(200).then(() => (done = true));
    await get('/health');
    expect(done).toBe(false);
    await drained;
    expect(performance.now() - started).toBeGreaterThanOrEqual(190); // timers count from the loop's cached time
  });
});

describe('stopTimeoutMs', () => {
  it('allows the drain, the grace of requests in flight and 5 s for the rest: 20 s with the defaults', () => {
    const { HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS } = httpSettings;
    expect(stopTimeoutMs(httpShutdown(loadConfig({ HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS }, {})))).toBe(20_000);
    expect(stopTimeoutMs({ drainDelayMs: 0, graceMs: 30_000 })).toBe(35_000);
  });
});
