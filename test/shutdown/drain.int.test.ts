// SIGTERM to a service under keep-alive load cuts nothing: the service first drains (/ready answers 503
// while it keeps serving, every response with Connection: close, so each client's next request goes on a
// fresh connection), then stops accepting, answers what is in flight and exits 0. Without the drain the
// server closed keep-alive connections between two requests of a client, whose next request, already on
// its way, was reset. The catalog stands for every service: they and the relay stop through runService,
// and the relay's own HTTP app drains like theirs.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { waitUntil } from '@qtshop/shared/platform';
import { migrateAll } from '../../scripts/migrate';
import { loadRelayConfig } from '../../services/relay/src/config';
import { createRelay } from '../../services/relay/src/relay';
import { startServiceProcess, type ServiceProcess } from '../support/service-process';
import { ADMIN, http, quiet } from '../support/services';

const CLIENTS = 16;
const DRAIN_MS = 1500;
const GRACE_MS = 10_000;

type Outcome =
  { kind: 'answered'; status: number; close: boolean; body: string; at: number } | { kind: 'refused'; at: number } | { kind: 'cut'; error: string };

/** One GET, on the agent's keep-alive connection when it has one, read to its end. */
function get(url: string, agent: Agent | false): Promise<Outcome> {
  return new Promise((done) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('error', (err: NodeJS.ErrnoException) => done({ kind: 'cut', error: `answer cut: ${err.code ?? ''} ${err.message}` }));
      res.on('end', () => done({ kind: 'answered', status: res.statusCode!, close: res.headers.connection === 'close', body, at: Date.now() }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Refused: the service had stopped accepting and never saw the request, so nothing of it was cut
      // (behind a load balancer, which stopped sending when /ready turned 503, it does not happen at all).
      // ECONNREFUSED once the listening socket is closed; ECONNRESET on a fresh connection, before any
      // answer, when the kernel had completed the connection but the service not accepted it yet: closing
      // the listening socket resets those, a few ms before the first ECONNREFUSED. (A bare node:http server
      // closed under the same load does the same, while the connections it accepted equal the requests it
      // answered.) On a reused keep-alive connection the service had accepted, a reset is a cut.
      const refused = err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && !req.reusedSocket);
      done(refused ? { kind: 'refused', at: Date.now() } : { kind: 'cut', error: `${err.code ?? ''} ${err.message} (reused connection: ${req.reusedSocket})` });
    });
    req.end();
  });
}

/** A keep-alive client sending one request after another until the service refuses its connection. */
async function client(url: string, outcomes: Outcome[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (;;) {
      const outcome = await get(url, agent);
      outcomes.push(outcome);
      if (outcome.kind === 'refused') return;
    }
  } finally {
    agent.destroy();
  }
}

interface ReadyProbe {
  status: number;
  shutdown: string | undefined;
  at: number;
}

/** Reads /ready every 25 ms, as a load balancer's health check, until the service stops answering. */
async function watchReady(url: string, seen: ReadyProbe[]): Promise<void> {
  for (;;) {
    const res = await get(`${url}/ready`, false);
    if (res.kind !== 'answered') return;
    const checks = (JSON.parse(res.body) as { checks: Record<string, string> }).checks;
    seen.push({ status: res.status, shutdown: checks.shutdown, at: res.at });
    await delay(25);
  }
}

describe('SIGTERM under keep-alive load', () => {
  let svc: ServiceProcess | undefined;
  beforeAll(() => migrateAll(['catalog']));
  afterEach(async () => {
    if (svc && svc.child.exitCode === null) {
      svc.child.kill('SIGKILL');
      await svc.exited;
    }
  });

  it('answers /ready 503 and keeps serving for the drain, each answer closing its connection, then stops: nothing cut, exit 0', async () => {
    svc = await startServiceProcess('catalog', { HTTP_DRAIN_DELAY_MS: String(DRAIN_MS), HTTP_SHUTDOWN_GRACE_MS: String(GRACE_MS) });
    const product = await http(
      'POST',
      `${svc.url}/products`,
      { name: `Lamp ${randomUUID()}`, description: '', type: 'home', brand: 'Lumo', pictureUrl: '', price: 100 },
      ADMIN,
    );
    expect(product.status).toBe(201);
    const url = `${svc.url}/products/${product.json.id as string}`;

    const outcomes: Outcome[] = [];
    const load = Promise.all(Array.from({ length: CLIENTS }, () => client(url, outcomes)));
    await waitUntil(async () => outcomes.length >= 200, { timeoutMs: 20_000, what: 'the load to be under way' });
    const ready: ReadyProbe[] = [];
    const watching = watchReady(svc.url, ready);
    await waitUntil(async () => ready.length > 0, { timeoutMs: 10_000, what: 'a first /ready answer' });
    const signalled = Date.now();
    svc.child.kill('SIGTERM');
    const code = await svc.exited;
    const stoppedAfterMs = Date.now() - signalled;
    await Promise.all([load, watching]);

    const cut = outcomes.flatMap((o) => (o.kind === 'cut' ? [o.error] : []));
    const answered = outcomes.flatMap((o) => (o.kind === 'answered' ? [o] : []));
    const refused = outcomes.flatMap((o) => (o.kind === 'refused' ? [o] : []));
    expect({ cut, code }).toEqual({ cut: [], code: 0 });
    expect(new Set(answered.map((o) => o.status))).toEqual(new Set([200]));
    // Every client ran until the service stopped accepting, which it did only once the drain was over, and
    // then nothing was left for the end of the grace to cut.
    expect(refused).toHaveLength(CLIENTS);
    expect(Math.min(...refused.map((o) => o.at)) - signalled).toBeGreaterThanOrEqual(DRAIN_MS);
    expect(stoppedAfterMs).toBeLessThan(DRAIN_MS + GRACE_MS);

    // The drain: /ready failed on the shutdown check while requests were still answered, each answer
    // closing its connection. Counted from the second 503: an answer the service sent before the drain
    // began may be read here just after the first.
    const draining = ready.filter((r) => r.status === 503 && r.at > signalled);
    expect(draining.length).toBeGreaterThanOrEqual(2);
    for (const probe of draining) expect(probe.shutdown).toMatch(/^failing: draining: stopping in \d+ ms$/);
    const duringDrain = answered.filter((o) => o.at > draining[1]!.at);
    expect(duringDrain.length).toBeGreaterThan(CLIENTS);
    expect(duringDrain.filter((o) => !o.close)).toEqual([]);
  }, 60_000);
});

describe("the relay's drain()", () => {
  it('fails /ready on the shutdown check and closes the connection of every answer, as the services do', async () => {
    const relay = createRelay(
      {
        ...loadRelayConfig(),
        RELAY_PORT: 0,
        RELAY_MODE: 'polling',
        OUTBOX_DATABASES: [],
        RELAY_LAG_GROUPS: [],
        RELAY_DLQ_TOPICS: [],
        HTTP_DRAIN_DELAY_MS: 300,
      },
      { log: quiet },
    );
    await relay.start();
    const agent = new Agent({ keepAlive: true });
    try {
      const url = `http://127.0.0.1:${relay.port}`;
      expect(await get(`${url}/ready`, agent)).toMatchObject({ kind: 'answered', status: 200, close: false });
      const drained = relay.drain();
      const ready = await get(`${url}/ready`, agent);
      expect(ready).toMatchObject({ kind: 'answered', status: 503, close: true });
      expect(ready.kind === 'answered' && (JSON.parse(ready.body) as { checks: Record<string, string> }).checks).toEqual({
        kafka: 'ok',
        shutdown: expect.stringMatching(/^failing: draining: stopping in \d+ ms$/) as unknown,
      });
      expect(await get(`${url}/health`, agent)).toMatchObject({ kind: 'answered', status: 200, close: true });
      await drained;
    } finally {
      agent.destroy();
      await relay.stop();
    }
  }, 30_000);
});
