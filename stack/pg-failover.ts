// npm run stack -- failover | rebuild-standby: the two moves of a primary and its standby.
// failover: the primary is fenced first (stopped if it still runs, and marked so that no `up` starts it
// again), then the standby is promoted and the proxy's check moves the address (PG_PORT) to it; the
// report says how long each step took and which slots the new primary has. rebuild-standby: the node that
// is not the primary is wiped and copied from the primary again, then followed as its standby.
import { rmSync } from 'node:fs';
import { waitUntil } from '@qtshop/shared/platform';
import { armStandby, fence, nodeRoles, pgClient, pgDataDir, pgMember, pgMemberName } from './components';
import type { StackConfig } from './config';
import { pidOf, say, StackError, startOne, stopOne } from './lifecycle';

export interface FailoverReport {
  from: number;
  to: number;
  /** From the command's start: the old primary fenced, the standby promoted, the address reaching it. */
  fencedMs: number;
  promotedMs: number;
  addressMovedMs: number;
  /** The logical slots the new primary has, with whether each came over as a failover slot. */
  slots: Array<{ name: string; failover: boolean; synced: boolean }>;
}

export async function failover(cfg: StackConfig): Promise<FailoverReport> {
  if (!cfg.infra.pg.nodes.length) throw new StackError('the stack runs no standby: set STACK_PG_STANDBY=true (and run `npm run stack -- up`)');
  const t0 = Date.now();
  const roles = await nodeRoles(cfg);
  const standby = roles.find((r) => r.role === 'standby' && !r.fenced);
  if (!standby) throw new StackError(`no standby to promote (${roles.map((r) => `${pgMemberName(r.id)}: ${r.fenced ? 'fenced' : r.role}`).join(', ')})`);
  const old = roles.find((r) => r.id !== standby.id)!;
  // Fence first: once the standby is promoted, the old primary must take no write. A fast shutdown sends
  // the standby what WAL it has not yet had; a primary already dead is only marked.
  const member = pgMember(cfg, old.id);
  if (pidOf(cfg, member) !== undefined) await stopOne(cfg, member);
  fence(cfg, old.id, `was the primary until the failover to ${pgMemberName(standby.id)}`);
  const fencedMs = Date.now() - t0;
  say(`${pgMemberName(old.id)}: fenced (${old.role === 'down' ? 'it was down' : 'stopped'})`);

  const c = pgClient(cfg, 'postgres', standby.port);
  await c.connect();
  let slots: FailoverReport['slots'];
  try {
    await c.query('select pg_promote(true, 60)');
    // Alone now: no standby to wait for at commit or before Debezium is sent a change.
    await c.query("alter system set synchronous_standby_names = ''");
    await c.query("alter system set synchronized_standby_slots = ''");
    await c.query('select pg_reload_conf()');
    ({ rows: slots } = await c.query<FailoverReport['slots'][number]>(
      "select slot_name as name, failover, synced from pg_replication_slots where slot_type = 'logical' order by slot_name",
    ));
  } finally {
    await c.end();
  }
  const promotedMs = Date.now() - t0;
  say(`${pgMemberName(standby.id)}: promoted in ${promotedMs - fencedMs} ms`);

  // The proxy checks every second: wait until a connection through the address reaches the new primary.
  await waitUntil(
    async () => {
      const p = pgClient(cfg);
      try {
        await p.connect();
        const { rows } = await p.query<{ port: number; standby: boolean }>('select inet_server_port() as port, pg_is_in_recovery() as standby');
        return rows[0]?.port === standby.port && rows[0]?.standby === false;
      } catch {
        return false;
      } finally {
        await p.end().catch(() => undefined);
      }
    },
    { timeoutMs: 30_000, everyMs: 100, what: `the address (port ${cfg.infra.pg.port}) to reach ${pgMemberName(standby.id)}` },
  );
  const addressMovedMs = Date.now() - t0;
  const report = { from: old.id, to: standby.id, fencedMs, promotedMs, addressMovedMs, slots };
  say(
    `failover done in ${addressMovedMs} ms: ${pgMemberName(standby.id)} is the primary behind port ${cfg.infra.pg.port}; ` +
      `logical slots there: ${slots.map((s) => `${s.name}${s.failover ? '' : ' (no failover)'}`).join(', ') || 'none'}; ` +
      `${pgMemberName(old.id)} is fenced until \`npm run stack -- rebuild-standby\``,
  );
  process.stdout.write(`${JSON.stringify({ failover: report })}\n`);
  return report;
}

/** fresh: rebuild even a healthy standby (to drop what it holds, e.g. slot copies). */
export async function rebuildStandby(cfg: StackConfig, fresh = false): Promise<void> {
  if (!cfg.infra.pg.nodes.length) throw new StackError('the stack runs no standby: set STACK_PG_STANDBY=true');
  const roles = await nodeRoles(cfg);
  const primary = roles.find((r) => r.role === 'primary' && !r.fenced);
  if (!primary) throw new StackError('no running primary to copy (start the stack, or run `npm run stack -- failover`)');
  const target = roles.find((r) => r.id !== primary.id)!;
  if (target.role === 'standby' && !target.fenced && !fresh) {
    say(`${pgMemberName(target.id)} is already the standby`);
    await armStandby(cfg, say);
    return;
  }
  const member = pgMember(cfg, target.id);
  if (pidOf(cfg, member) !== undefined) await stopOne(cfg, member);
  rmSync(pgDataDir(cfg, target.id), { recursive: true, force: true });
  say(`${pgMemberName(target.id)}: data wiped; copying ${pgMemberName(primary.id)}`);
  await startOne(cfg, member, []);
  await armStandby(cfg, say);
}
