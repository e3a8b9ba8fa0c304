// Admission of new orders under overload (admission.ts): the rule that closes and opens the gate, the
// refusal it answers with, what it shows (metrics, log lines, /ready's note), its sampling, on fake timers
// and a fake backlog; and at the HTTP edge, the refusal answered before the database is touched.
import type { Server } from 'node:http';
import { jest } from '@jest/globals';
import type { Metric } from 'prom-client';
import { AppError, closeServer, createHttpApp, Degraded, listen, shopperAccess } from '@qtshop/shared/http';
import type { Knex } from '@qtshop/shared/infra';
import { createOutboxWriter } from '@qtshop/shared/outbox';
import { createLogger, type Logger } from '@qtshop/shared/platform';
import { OrderAdmission, OVERLOADED_RETRY_AFTER_S, type AdmissionOptions } from './admission';
import { ordersRouter } from './api';
import { loadOrderCommandConfig } from './config';

type Line = { level: 'warn' | 'info'; msg: string; fields: Record<string, unknown> };

function fakeLog() {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, msg, fields });
  return { lines, log: { warn: at('warn'), info: at('info') } as unknown as Logger };
}

function gate(opts: Partial<AdmissionOptions> = {}) {
  const { lines, log } = fakeLog();
  const admission = new OrderAdmission({ maxAgeMs: 1000, lateOrders: 10, sampleMs: 250, measure: async () => 0, log, ...opts });
  return { admission, lines };
}

/** What admit() does: undefined when admitted, else the error it throws and the headers it set. */
function tryAdmit(admission: OrderAdmission): { error: unknown; headers: Record<string, string> } | undefined {
  const headers: Record<string, string> = {};
  try {
    admission.admit((name, value) => void (headers[name] = value));
    return undefined;
  } catch (error) {
    return { error, headers };
  }
}

async function value(metrics: Metric[], name: string): Promise<number> {
  const m = metrics.find((x) => (x as unknown as { name: string }).name === name)!;
  return (await m.get()).values[0]!.value;
}

describe('order admission: the rule', () => {
  it('admits while the backlog is at or under the limit', () => {
    const { admission, lines } = gate();
    admission.observe(0.2);
    admission.observe(1.0); // exactly the limit: not over it
    expect(admission.closed).toBe(false);
    expect(tryAdmit(admission)).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('closes above the limit: a 503 overloaded with Retry-After, counted, shown, logged once', async () => {
    const { admission, lines } = gate();
    admission.observe(1.2);
    expect(admission.closed).toBe(true);
    const refused = tryAdmit(admission);
    expect(refused?.error).toBeInstanceOf(AppError);
    expect(refused?.error).toMatchObject({ status: 503, code: 'overloaded' });
    expect(refused?.headers).toEqual({ 'Retry-After': String(OVERLOADED_RETRY_AFTER_S) });
    expect(OVERLOADED_RETRY_AFTER_S).toBeGreaterThanOrEqual(1);
    tryAdmit(admission);
    admission.observe(1.5); // still over: no second line
    expect(await value(admission.metrics, 'orders_admission_refused_total')).toBe(2);
    expect(await value(admission.metrics, 'orders_admission_closed')).toBe(1);
    expect(await value(admission.metrics, 'orders_admission_pending_age_seconds')).toBe(1.5);
    expect(admission.readiness()).toBeInstanceOf(Degraded);
    expect(admission.readiness()?.reason).toMatch(/refusing new orders \(503 overloaded\).*1\.5 s.*1000 ms/);
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^order admission closed/) })]);
  });

  it('stays closed above half the limit and opens at half of it (hysteresis), logging how long it was closed', async () => {
    let now = 10_000;
    const { admission, lines } = gate({ now: () => now });
    admission.observe(1.1);
    tryAdmit(admission);
    now += 3000;
    for (const ageS of [0.9, 0.6, 0.51]) {
      admission.observe(ageS);
      expect(admission.closed).toBe(true);
    }
    admission.observe(0.5);
    expect(admission.closed).toBe(false);
    expect(tryAdmit(admission)).toBeUndefined();
    expect(await value(admission.metrics, 'orders_admission_closed')).toBe(0);
    expect(admission.readiness()).toBeUndefined();
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(lines[1]).toMatchObject({ msg: expect.stringMatching(/^order admission open/), fields: { ageS: 0.5, closedForMs: 3000, refused: 1 } });
    // Closes again only above the limit, not above half of it.
    admission.observe(0.9);
    expect(admission.closed).toBe(false);
    admission.observe(1.01);
    expect(admission.closed).toBe(true);
  });

  it('is off at 0: never samples, never refuses, shows no age', async () => {
    jest.useFakeTimers();
    try {
      const measure = jest.fn(async () => 99);
      const { admission } = gate({ maxAgeMs: 0, measure });
      expect(admission.enabled).toBe(false);
      admission.start();
      await jest.advanceTimersByTimeAsync(5000);
      expect(measure).not.toHaveBeenCalled();
      expect(admission.closed).toBe(false);
      expect(tryAdmit(admission)).toBeUndefined();
      expect(await value(admission.metrics, 'orders_admission_pending_age_seconds')).toBeNaN();
      await admission.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('order admission: sampling', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('samples at once, then every interval, closing and opening the gate from what it measures', async () => {
    const ages = [0.1, 2, 2, 0.4];
    const measure = jest.fn(async () => ages.shift() ?? 0);
    const { admission } = gate({ measure });
    admission.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(measure).toHaveBeenCalledTimes(1);
    expect(admission.closed).toBe(false);
    await jest.advanceTimersByTimeAsync(250);
    expect(measure).toHaveBeenCalledTimes(2);
    expect(admission.closed).toBe(true);
    await jest.advanceTimersByTimeAsync(250);
    expect(admission.closed).toBe(true);
    await jest.advanceTimersByTimeAsync(250);
    expect(measure).toHaveBeenCalledTimes(4);
    expect(admission.closed).toBe(false);
    await admission.stop();
  });

  it('never overlaps samples: the next starts an interval after the last one ended, however slow it is', async () => {
    let finish: (ageS: number) => void = () => undefined;
    const measure = jest.fn(() => new Promise<number>((resolve) => (finish = resolve)));
    const { admission } = gate({ measure });
    admission.start();
    await jest.advanceTimersByTimeAsync(10 * 250);
    expect(measure).toHaveBeenCalledTimes(1);
    finish(2);
    await jest.advanceTimersByTimeAsync(0);
    expect(admission.closed).toBe(true);
    await jest.advanceTimersByTimeAsync(249);
    expect(measure).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(measure).toHaveBeenCalledTimes(2);
    const stopped = admission.stop();
    finish(0);
    await stopped;
  });

  it('does not refuse because a sample failed: a closed gate opens, an open one stays open, one warning per run of failures', async () => {
    const outcomes: Array<number | Error> = [2, new Error('database away'), new Error('database away'), 0.1, new Error('database away')];
    const measure = jest.fn(async () => {
      const next = outcomes.shift() ?? 0;
      if (next instanceof Error) throw next;
      return next;
    });
    const { admission, lines } = gate({ measure });
    admission.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(admission.closed).toBe(true);
    await jest.advanceTimersByTimeAsync(250); // fails
    expect(admission.closed).toBe(false);
    expect(tryAdmit(admission)).toBeUndefined();
    expect(await value(admission.metrics, 'orders_admission_pending_age_seconds')).toBeNaN();
    await jest.advanceTimersByTimeAsync(250); // fails again
    expect(admission.closed).toBe(false);
    await jest.advanceTimersByTimeAsync(250); // measured again
    expect(await value(admission.metrics, 'orders_admission_pending_age_seconds')).toBe(0.1);
    await jest.advanceTimersByTimeAsync(250); // fails while open
    expect(admission.closed).toBe(false);
    expect(measure).toHaveBeenCalledTimes(5);
    expect(lines.map((l) => [l.level, l.msg.replace(/:.*/, '')])).toEqual([
      ['warn', 'order admission closed'],
      ['warn', 'order admission'], // cannot be measured
      ['info', 'order admission open'],
      ['info', 'order admission'], // measured again
      ['warn', 'order admission'], // cannot be measured
    ]);
    expect(lines.filter((l) => l.level === 'warn' && /cannot be measured/.test(l.msg))).toHaveLength(2); // not one per failed sample
    await admission.stop();
  });
});

describe('order admission at the HTTP edge (POST /orders)', () => {
  const silent = createLogger('test', 'silent');
  /** A database that fails whatever is asked of it, and counts what was. */
  let touched = 0;
  const db = new Proxy(() => undefined, {
    apply() {
      touched++;
      throw new Error('the database was touched');
    },
    get() {
      touched++;
      throw new Error('the database was touched');
    },
  }) as unknown as Knex;
  const admission = new OrderAdmission({ maxAgeMs: 1000, lateOrders: 10, sampleMs: 250, measure: async () => 0, log: silent });
  const cfg = loadOrderCommandConfig({});
  const admin = { authorization: `Bearer ${cfg.ADMIN_TOKEN}` };
  const order = { basketId: 'alice', items: [{ productId: '7b1f6f36-3c59-4c1e-a3c9-0c7c5cbb3a10', price: 100, quantity: 1 }] };
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const http = createHttpApp({
      name: 'order-command',
      log: silent,
      readiness: {},
      routers: [ordersRouter(db, createOutboxWriter(), 10, shopperAccess(cfg, silent), admission)],
    });
    const listening = await listen(http.app, 0);
    server = listening.server;
    base = `http://127.0.0.1:${listening.port}`;
  });
  afterAll(() => closeServer(server, 0));
  beforeEach(() => (touched = 0));

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('answers 503 overloaded with Retry-After while closed, without touching the database; /ready stays 200 with a note', async () => {
    admission.observe(5);
    const res = await post('/orders', order, admin);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe(String(OVERLOADED_RETRY_AFTER_S));
    expect(await res.json()).toEqual({ error: { code: 'overloaded', message: expect.stringContaining('nothing was placed') as unknown } });
    expect(touched).toBe(0);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { admission: expect.stringMatching(/^degraded: refusing new orders/) as unknown } });
  });

  it('still authenticates first (401 without a token), and gates neither cancels nor reads', async () => {
    admission.observe(5);
    expect((await post('/orders', order)).status).toBe(401);
    const id = '7b1f6f36-3c59-4c1e-a3c9-0c7c5cbb3a11';
    // Both reach their handler, which asks the (failing) database: 500, not 503 overloaded.
    expect((await post(`/orders/${id}/cancel`, undefined, admin)).status).toBe(500);
    expect((await fetch(`${base}/orders/${id}`, { headers: admin })).status).toBe(500);
    expect(touched).toBeGreaterThanOrEqual(2);
  });

  it('lets orders through to the database once open again', async () => {
    admission.observe(0);
    const res = await post('/orders', order, admin);
    expect(res.status).toBe(500); // the handler ran and asked the database
    expect(touched).toBeGreaterThan(0);
    expect(await (await fetch(`${base}/ready`)).json()).toMatchObject({ status: 'ready', checks: { admission: 'ok' } });
  });
});
