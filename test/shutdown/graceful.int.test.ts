// Stopping a service (what SIGTERM does) lets the requests in flight finish: a POST /products whose
// transaction is still open when the stop begins commits and answers 201, never a reset connection; the
// server accepts nothing new meanwhile. The requests are held inside their transactions by a lock on the
// outbox, so that every one of them is provably in flight at the server when the stop begins.
import { randomUUID } from 'node:crypto';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { ADMIN, catalogForTest } from '../support/services';

const catalogDb = createDb(loadInfra(), 'catalog', { max: 2 });
afterAll(() => catalogDb.destroy());

const IN_FLIGHT = 8; // under the catalog pool's 10 connections: each request holds one, blocked on the lock

describe('graceful shutdown', () => {
  it('lets requests in flight finish and commit, and refuses new ones, when a service is stopped under load', async () => {
    const svc = await catalogForTest();
    const names = Array.from({ length: IN_FLIGHT }, () => `Lamp ${randomUUID()}`);
    const locker = await catalogDb.transaction();
    let stopped = false;
    try {
      await locker.raw('lock table outbox in exclusive mode');
      const responses = names.map((name) =>
        fetch(`${svc.url}/products`, {
          method: 'POST',
          headers: { ...ADMIN, 'content-type': 'application/json' },
          body: JSON.stringify({ name, description: '', type: 'home', brand: 'Lumo', pictureUrl: '', price: 100 }),
        }).then(
          async (res) => ({ status: res.status, body: (await res.json()) as { id?: string; error?: unknown } }),
          (err: unknown) => ({ status: 0, body: { error: String((err as Error).cause ?? err) } as { id?: string; error?: unknown } }),
        ),
      );
      // Every request is inside its transaction, waiting on the lock.
      await waitUntil(
        async () =>
          Number(
            (
              (await catalogDb.raw(
                `select count(*)::int as n from pg_stat_activity where datname = 'catalog' and wait_event_type = 'Lock' and query ilike 'insert into "outbox"%'`,
              )) as {
                rows: Array<{ n: number }>;
              }
            ).rows[0]!.n,
          ) === IN_FLIGHT,
        { timeoutMs: 20_000, what: `${IN_FLIGHT} requests to wait on the outbox lock` },
      );
      const stopping = svc.stop().then(() => (stopped = true));
      // The server no longer accepts: a new request is refused, not queued behind the stop.
      await waitUntil(
        async () =>
          (await fetch(`${svc.url}/health`).then(
            () => 'served',
            () => 'refused',
          )) === 'refused',
        { timeoutMs: 5000, what: 'new connections to be refused' },
      );
      expect(stopped).toBe(false); // still waiting for the requests in flight
      await locker.commit();
      const results = await Promise.all(responses);
      expect(results.map((r) => r.status)).toEqual(names.map(() => 201));
      await stopping;
      const ids = results.map((r) => r.body.id!);
      expect(await catalogDb('products').whereIn('id', ids).count({ n: '*' })).toEqual([{ n: String(IN_FLIGHT) }]);
      expect(await catalogDb('outbox').whereIn('aggregateid', ids).count({ n: '*' })).toEqual([{ n: String(IN_FLIGHT) }]);
    } finally {
      if (!locker.isCompleted()) await locker.rollback();
      if (!stopped) await svc.stop().catch(() => undefined);
    }
  }, 60_000);
});
