// A primary, its standby and the proxy holding the primary's address (STACK_PG_STANDBY), on a throwaway
// PostgreSQL-only stack (own STACK_DIR and ports): the standby streams synchronously, a failover slot gets
// its copy on the standby, a failover after SIGKILL of the primary moves the address and the slot resumes
// on the promoted node, the old primary stays fenced until rebuilt as the new standby.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import { waitUntil } from '@qtshop/shared/platform';
import { runStackCli } from '../support/stack-cli';

// Below the ephemeral port range (32768 and up), which other suites' clients and servers on port 0 draw from.
const PORT = 25632;
const NODE = { 1: PORT + 10, 2: PORT + 20 } as const;
const dir = mkdtempSync(resolve(tmpdir(), 'qtshop-ha-'));
const env = { STACK_DIR: dir, PG_PORT: String(PORT), PG_HOST: '127.0.0.1', STACK_PG_STANDBY: 'true', STACK_PORT_STEP: '10' };

const runCli = (args: string[]) => runStackCli(args, env);

async function query<T extends pg.QueryResultRow>(port: number, sql: string, params: unknown[] = [], database = 'catalog'): Promise<T[]> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'postgres', database, connectionTimeoutMillis: 2000 });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

const inRecovery = async (port: number) => (await query<{ r: boolean }>(port, 'select pg_is_in_recovery() as r'))[0]!.r;
/** Decodes what the slot holds (and so moves it on): the number of messages. */
const consume = async (port: number) =>
  Number(
    (
      await query<{ n: string }>(
        port,
        "select count(*) as n from pg_logical_slot_get_binary_changes('ha_test', null, null, 'proto_version', '1', 'publication_names', 'ha_test')",
      )
    )[0]!.n,
  );

beforeAll(async () => {
  const r = await runCli(['up', 'postgres']);
  if (r.code !== 0) throw new Error(`stack up postgres failed:\n${r.stdout}\n${r.stderr}`);
}, 180_000);

afterAll(async () => {
  await runCli(['down']);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('a PostgreSQL standby behind the primary address', () => {
  it('streams synchronously from the primary, and the address reaches the primary', async () => {
    const [{ port }] = (await query<{ port: number }>(PORT, 'select inet_server_port() as port')) as [{ port: number }];
    expect(port).toBe(NODE[1]);
    expect(await inRecovery(PORT)).toBe(false);
    expect(await inRecovery(NODE[2])).toBe(true);
    const rep = await query<{ application_name: string; state: string; sync_state: string }>(
      NODE[1],
      'select application_name, state, sync_state from pg_stat_replication',
      [],
      'postgres',
    );
    expect(rep).toEqual([{ application_name: 'node_2', state: 'streaming', sync_state: 'sync' }]);
    await query(PORT, 'create table ha_rows (id int primary key)');
    await query(PORT, 'insert into ha_rows values (1)');
    await waitUntil(async () => (await query(NODE[2], 'select 1 from ha_rows where id = 1')).length === 1, {
      timeoutMs: 10_000,
      what: 'the row on the standby',
    });
  });

  it('keeps a synchronized copy of a failover slot on the standby', async () => {
    await query(PORT, 'create publication ha_test for table ha_rows');
    await query(PORT, "select pg_create_logical_replication_slot('ha_test', 'pgoutput', false, false, true)");
    await query(PORT, 'insert into ha_rows values (2)');
    // The copy becomes persistent once the slot has moved past what the standby holds: consume it.
    await query(PORT, 'select pg_log_standby_snapshot()');
    expect(await consume(PORT)).toBeGreaterThan(0);
    await waitUntil(
      async () => {
        await query(PORT, 'select pg_log_standby_snapshot()');
        await consume(PORT);
        const copies = await query<{ synced: boolean; temporary: boolean }>(
          NODE[2],
          "select synced, temporary from pg_replication_slots where slot_name = 'ha_test'",
        );
        return copies.length === 1 && copies[0]!.synced && !copies[0]!.temporary;
      },
      { timeoutMs: 90_000, everyMs: 1000, what: 'the slot copy on the standby' },
    );
    const status = await runCli(['status']);
    expect(status.stdout).toMatch(/node 2\s+\d+\s+standby\s+streaming, \d+ B behind \(sync\)\s+1 synchronized/);
    expect(status.stdout).not.toContain('not synced yet');
  }, 120_000);

  it('fails over after SIGKILL of the primary: the address moves, the slot resumes there, the old primary stays fenced', async () => {
    const pid = Number(readFileSync(resolve(dir, 'run/postgres.pid'), 'utf8'));
    process.kill(-pid, 'SIGKILL'); // the whole process group, as a lost machine
    const r = await runCli(['failover']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"failover"'))!).failover as {
      from: number;
      to: number;
      addressMovedMs: number;
      slots: Array<{ name: string; failover: boolean }>;
    };
    expect(report).toMatchObject({ from: 1, to: 2, slots: [{ name: 'ha_test', failover: true }] });
    expect(report.addressMovedMs).toBeLessThan(10_000);
    const [{ port }] = (await query<{ port: number }>(PORT, 'select inet_server_port() as port')) as [{ port: number }];
    expect(port).toBe(NODE[2]);
    expect(await inRecovery(PORT)).toBe(false);
    // Nothing committed was lost, and the slot carries on with what is written after the failover.
    await query(PORT, 'insert into ha_rows values (3)');
    expect((await query<{ id: number }>(PORT, 'select id from ha_rows order by id')).map((x) => x.id)).toEqual([1, 2, 3]);
    expect(await consume(PORT)).toBeGreaterThan(0);
    const up = await runCli(['up', 'postgres']);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('postgres: not started: fenced since a failover');
    expect((await runCli(['status'])).stdout).toMatch(/node 1\s+\d+\s+fenced/);
  }, 120_000);

  it('rebuilds the old primary as the standby of the new one', async () => {
    const r = await runCli(['rebuild-standby']);
    expect(r.code).toBe(0);
    expect(await inRecovery(NODE[1])).toBe(true);
    const rep = await query<{ application_name: string; sync_state: string }>(
      NODE[2],
      "select application_name, sync_state from pg_stat_replication where state = 'streaming'",
      [],
      'postgres',
    );
    expect(rep).toEqual([{ application_name: 'node_1', sync_state: 'sync' }]);
    await query(PORT, 'insert into ha_rows values (4)');
    await waitUntil(async () => (await query(NODE[1], 'select 1 from ha_rows where id = 4')).length === 1, {
      timeoutMs: 10_000,
      what: 'the row on the rebuilt standby',
    });
  }, 120_000);

  it('will not run a node that is a standby alone: without STACK_PG_STANDBY the stack refuses it, saying how to go on', async () => {
    const r = await runStackCli(['up', 'postgres'], { ...env, STACK_PG_STANDBY: 'false' });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('this node is the standby (or the fenced old primary) of a stack with a standby: run with STACK_PG_STANDBY=true');
  }, 120_000);
});
