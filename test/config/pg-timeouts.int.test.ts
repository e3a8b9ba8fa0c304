// Every PostgreSQL connection the shop opens is time-bounded (PG_STATEMENT_TIMEOUT_MS,
// PG_IDLE_IN_TRANSACTION_TIMEOUT_MS, PG_KEEPALIVE_IDLE_S): a runaway statement is cancelled, a transaction
// left open is ended by the server, and both ends probe an idle connection.
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra, type Knex } from '@qtshop/shared/infra';

const opened: Knex[] = [];
const dbWith = (env: Record<string, string>) => {
  const db = createDb(loadInfra({ ...process.env, ...env }), 'postgres', { max: 2 }, `timeouts-test-${process.pid}`);
  opened.push(db);
  return db;
};
afterAll(() => Promise.all(opened.map((db) => db.destroy())));

describe('PostgreSQL time bounds', () => {
  it('applies the documented defaults to every connection', async () => {
    const db = dbWith({});
    const show = async (name: string) => ((await db.raw(`show ${name}`)) as { rows: Array<Record<string, string>> }).rows[0]![name];
    expect(await show('statement_timeout')).toBe('30s');
    expect(await show('idle_in_transaction_session_timeout')).toBe('1min');
    expect(await show('tcp_keepalives_idle')).toBe('10');
    expect(await show('tcp_keepalives_interval')).toBe('5');
    expect(await show('tcp_keepalives_count')).toBe('3');
  });

  it('cancels a statement that runs longer than PG_STATEMENT_TIMEOUT_MS', async () => {
    const db = dbWith({ PG_STATEMENT_TIMEOUT_MS: '300' });
    const t0 = Date.now();
    await expect(db.raw('select pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('ends a session left idle in a transaction longer than PG_IDLE_IN_TRANSACTION_TIMEOUT_MS, releasing its locks', async () => {
    const db = dbWith({ PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: '300' });
    const observer = dbWith({});
    const trx = await db.transaction();
    const { rows } = (await trx.raw('select pg_backend_pid() as pid, pg_advisory_xact_lock(4242) is null as locked')) as { rows: Array<{ pid: number }> };
    const pid = rows[0]!.pid;
    // The server ends the session by itself: its backend disappears and the lock is free again.
    await waitUntil(
      async () =>
        ((await observer.raw('select count(*)::int as n from pg_stat_activity where pid = ?', [pid])) as { rows: Array<{ n: number }> }).rows[0]!.n === 0,
      {
        timeoutMs: 10_000,
        what: 'the idle transaction to be ended',
      },
    );
    const free = (await observer.raw('select pg_try_advisory_lock(4242) as ok')) as { rows: Array<{ ok: boolean }> };
    expect(free.rows[0]!.ok).toBe(true);
    await observer.raw('select pg_advisory_unlock(4242)');
    await expect(trx.raw('select 1')).rejects.toThrow();
    await trx.rollback().catch(() => undefined);
  });
});
