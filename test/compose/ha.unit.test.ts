// docker-compose.ha.yml checked statically, as compose merges it into docker-compose.yml (no Docker engine runs
// here): two PostgreSQL nodes of the base file's image and settings, each the other's standby under the local
// stack's names (stack/components/pg-standby.ts); pg-proxy running the local stack's HAProxy configuration
// with both nodes; every PostgreSQL client of the shop pointed at pg-proxy. The scripts under
// docker/postgres/ run here with stand-ins for psql, pg_basebackup, gosu, the image's entry point and
// `docker compose`, which record what they are asked to do.
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { SHOP_SERVICES } from '@qtshop/shared/tooling';
import { PG_PROXY_CONFIG } from '../../stack/components/pg-proxy';
import { slotOf, standbyNameOf } from '../../stack/components/pg-standby';
import {
  commandOf,
  dependsOn,
  envOf,
  ha,
  HA_REQUIRED,
  haProject,
  haService,
  haText,
  healthcheckOf,
  mountsOf,
  publishedOn,
  publishedPorts,
  rawEnvOf,
  read,
  replacedKeys,
  repoPathOf,
  REQUIRED,
  requiredVarOf,
  root,
  services as base,
} from './compose-file';

const SECRETS = { ...REQUIRED, ...HA_REQUIRED };
const env = (name: string) => envOf(haService(name), SECRETS);
const NODES = ['postgres', 'postgres-replica'] as const;
/** Every container that connects to PostgreSQL (the basket only has the address). */
const CLIENTS = [...SHOP_SERVICES, 'migrate', 'register-connectors', 'connect'];
const HA_SETTINGS = ['-c', 'hot_standby_feedback=on', '-c', 'sync_replication_slots=on'];

describe('docker-compose.ha.yml', () => {
  it('adds the standby, the proxy and the pg-sync job, and overrides only services of the base file', () => {
    expect(
      Object.keys(ha.services)
        .filter((n) => !(n in base))
        .sort(),
    ).toEqual(['pg-proxy', 'pg-sync', 'postgres-replica']);
    expect(Object.keys(ha.volumes ?? {})).toEqual(['pg-replica-data']);
  });

  it('states the Compose version its `!reset` needs, and whether it combines with docker-compose.cluster.yml', () => {
    expect(haText).toMatch(/!reset/);
    expect(haText).toMatch(/^# Needs Docker Compose v2\.24\.0 or later/m);
    expect(haText).toMatch(/^# With docker-compose\.cluster\.yml: /m);
    expect(haText).not.toMatch(/^\s+extends:/m);
  });

  it('runs both nodes from the base file’s image and command, with the settings a standby needs', () => {
    const command = [...(base.postgres!.command as string[]), ...HA_SETTINGS];
    for (const n of NODES) {
      const svc = haService(n);
      expect({ n, image: svc.image, command: svc.command }).toEqual({ n, image: base.postgres!.image, command });
      expect(svc.entrypoint).toEqual(['sh', '/opt/qtshop/postgres/ha.sh', 'node']);
      expect(repoPathOf(svc, '/opt/qtshop/postgres/ha.sh')).toBe('docker/postgres/ha.sh');
      expect(healthcheckOf(svc)).toBe(healthcheckOf(base.postgres!));
      expect(svc.restart).toBe('unless-stopped');
    }
    // Nothing but the standby's settings on the command line: a command-line setting would override ALTER SYSTEM,
    // which pg-sync and a failover change synchronous_standby_names and synchronized_standby_slots with.
    expect(commandOf(haService('postgres'))).not.toMatch(/synchronous_standby_names|synchronized_standby_slots|primary_/);
  });

  it('gives each node a data volume of its own, node 1 the base file’s, and starts the standby after the primary is healthy', () => {
    const dataOf = (n: string) => mountsOf(haService(n)).find((m) => m.target === '/var/lib/postgresql/data')?.source;
    expect(dataOf('postgres')).toBe('pg-data');
    expect(dataOf('postgres-replica')).toBe('pg-replica-data');
    expect(dependsOn(haService('postgres-replica'))).toEqual({ postgres: 'service_healthy' });
  });

  it('numbers the nodes 1 and 2, and names them alike in every container that needs them (the proxy’s variables)', () => {
    expect(NODES.map((n) => env(n).QTSHOP_PG_NODE_ID)).toEqual(['1', '2']);
    const nodes = { QTSHOP_PG_NODE_1: 'postgres:5432', QTSHOP_PG_NODE_2: 'postgres-replica:5432' };
    for (const n of [...NODES, 'pg-proxy', 'pg-sync'])
      expect({ n, nodes: { QTSHOP_PG_NODE_1: env(n).QTSHOP_PG_NODE_1, QTSHOP_PG_NODE_2: env(n).QTSHOP_PG_NODE_2 } }).toEqual({ n, nodes });
  });

  it('creates the standby’s roles on the primary’s first start, after the shop’s, from a secret of its own', () => {
    const inits = mountsOf(haService('postgres')).filter((m) => m.target.startsWith('/docker-entrypoint-initdb.d/'));
    expect(inits.map((m) => [m.target.split('/').pop(), m.source, m.readOnly])).toEqual([
      ['10-create-databases.sql', 'docker/postgres/create-databases.sql', true],
      ['20-create-roles.sql', 'docker/postgres/create-roles.sql', true],
      ['30-standby-roles.sh', 'docker/postgres/standby-roles.sh', true],
    ]);
    // ha.sh's hint for a volume initialised without this file runs that same script.
    expect(read('docker/postgres/ha.sh')).toContain('exec postgres sh /docker-entrypoint-initdb.d/30-standby-roles.sh');
    for (const n of NODES)
      expect({ n, secret: requiredVarOf(rawEnvOf(haService(n)).QTSHOP_PG_REPLICATION_PASSWORD) }).toEqual({ n, secret: 'PG_REPLICATION_PASSWORD' });
    expect(read('.env.example')).toMatch(/^PG_REPLICATION_PASSWORD=change-me$/m);
  });

  it('runs pg-sync on every `up` once both nodes are healthy, as the superuser, gating nothing', () => {
    const sync = haService('pg-sync');
    expect(sync.image).toBe(base.postgres!.image);
    expect(commandOf(sync)).toBe('sh /opt/qtshop/postgres/ha.sh sync');
    expect(repoPathOf(sync, '/opt/qtshop/postgres/ha.sh')).toBe('docker/postgres/ha.sh');
    expect(dependsOn(sync)).toEqual({ postgres: 'service_healthy', 'postgres-replica': 'service_healthy' });
    expect(sync.restart).toBe('no');
    expect(requiredVarOf(rawEnvOf(sync).PGPASSWORD)).toBe(requiredVarOf(rawEnvOf(base.postgres!).POSTGRES_PASSWORD));
    expect(env('pg-sync')).toMatchObject({ PGUSER: 'postgres', QTSHOP_PG_SYNCHRONOUS: 'true' });
    const waiting = Object.entries(haProject()).filter(([, svc]) => 'pg-sync' in dependsOn(svc));
    expect(waiting.map(([n]) => n)).toEqual([]);
  });
});

describe('docker-compose.ha.yml: pg-proxy', () => {
  const proxy = haService('pg-proxy');
  const cfg = read('docker/haproxy/pg-primary.cfg');

  it('runs the official haproxy image, a maintained branch pinned by tag', () => {
    expect(proxy.image).toMatch(/^haproxy:(2\.8|3\.[0-9]+)$/);
  });

  it('runs the local stack’s configuration file, unchanged, as the image’s configuration', () => {
    const mount = mountsOf(proxy).find((m) => m.target === '/usr/local/etc/haproxy/haproxy.cfg');
    expect(mount).toEqual({ source: relative(root, PG_PROXY_CONFIG), target: '/usr/local/etc/haproxy/haproxy.cfg', bind: true, readOnly: true });
    expect(proxy.command).toBeUndefined();
  });

  it('gets every variable the configuration reads, both nodes among them', () => {
    const wanted = [...cfg.matchAll(/"\$\{([A-Z0-9_]+)\}"/g)].map((m) => m[1]!).sort();
    expect(wanted).toEqual(['QTSHOP_PG_BIND', 'QTSHOP_PG_NODE_1', 'QTSHOP_PG_NODE_2']);
    const e = env('pg-proxy');
    expect(Object.keys(e).sort()).toEqual(wanted);
    expect([e.QTSHOP_PG_NODE_1, e.QTSHOP_PG_NODE_2].map((a) => a!.split(':')[0])).toEqual([...NODES]);
  });

  it('holds the host’s PostgreSQL port (docker/tools.env’s) on QTSHOP_BIND_HOST, where postgres published it, which now publishes none', () => {
    const bindPort = Number(env('pg-proxy').QTSHOP_PG_BIND!.split(':').at(-1));
    expect(publishedPorts(proxy)).toEqual([{ host: publishedPorts(base.postgres!)[0]!.host, container: bindPort }]);
    expect(publishedOn(proxy.ports![0])).toBe(publishedOn(base.postgres!.ports![0]));
    expect(replacedKeys(haText, 'postgres')).toEqual(['ports']);
    expect(haService('postgres').ports).toEqual([]);
    for (const n of NODES) expect({ n, ports: haService(n).ports }).toEqual({ n, ports: [] });
  });

  it('starts once both nodes are healthy (it resolves their names when it starts) and is restarted when it dies', () => {
    expect(dependsOn(proxy)).toEqual({ postgres: 'service_healthy', 'postgres-replica': 'service_healthy' });
    expect(proxy.restart).toBe('unless-stopped');
  });

  it('is healthy when its address reaches a primary: its healthcheck speaks the configuration’s own check', () => {
    expect(healthcheckOf(proxy)).toBe('CMD bash /opt/qtshop/pg-proxy/healthcheck.sh');
    const script = repoPathOf(proxy, '/opt/qtshop/pg-proxy/healthcheck.sh');
    expect(script).toBe('docker/postgres/proxy-healthcheck.sh');
    const text = read(script!);
    const hex = (name: string) => new RegExp(`^${name}=([0-9a-f]+)$`, 'm').exec(text)?.[1] ?? '';
    const startup = Buffer.from(hex('startup'), 'hex');
    expect(startup.readUInt32BE(0)).toBe(startup.length);
    expect(startup.readUInt32BE(4)).toBe(3 << 16);
    const params = startup.subarray(8).toString('latin1').split('\0');
    expect(Object.fromEntries([0, 2, 4].map((i) => [params[i], params[i + 1]]))).toEqual({
      user: 'qtshop_check',
      database: 'postgres',
      application_name: 'pg-proxy-healthcheck',
    });
    const sends = [...cfg.matchAll(/tcp-check send-binary ([0-9a-f]+)/g)].map((m) => m[1]);
    const expects = [...cfg.matchAll(/tcp-check expect binary ([0-9a-f]+)/g)].map((m) => m[1]);
    expect([hex('query'), hex('terminate')]).toEqual(sends.slice(1));
    expect(hex('not_in_recovery')).toBe(expects.at(-1));
  });
});

describe('docker-compose.ha.yml: the shop’s PostgreSQL clients', () => {
  it.each(CLIENTS)('%s connects to pg-proxy, and waits for it where it waited for postgres', (name) => {
    const svc = haService(name);
    expect(env(name)).toMatchObject({ PG_HOST: 'pg-proxy', PG_PORT: '5432' });
    if ('postgres' in dependsOn(base[name]!)) expect(dependsOn(svc)['pg-proxy']).toBe('service_healthy');
  });

  it('leaves no container but the nodes, the proxy and pg-sync with a node’s name', () => {
    const others = Object.entries(haProject()).filter(([n]) => ![...NODES, 'pg-proxy', 'pg-sync'].includes(n));
    for (const [name, svc] of others) {
      const named = Object.entries(envOf(svc, SECRETS)).filter(
        ([k, v]) =>
          (k.endsWith('_HOST') && (NODES as readonly string[]).includes(v)) || /(@|\/\/|=)postgres(-replica)?[:/]|\bpostgres(-replica)?:5432\b/.test(v),
      );
      expect({ name, named }).toEqual({ name, named: [] });
    }
  });

  it('lets Kafka Connect’s connectors read the address (its config provider’s allowlist)', () => {
    expect(env('connect').CONNECT_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN!.split('|')).toContain('PG_HOST');
  });
});

// ---------------------------------------------------------------- the scripts, with stand-ins

/** A scratch directory with stand-in commands first on PATH; each appends what it is asked to `log`. */
function scratch(commands: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'qtshop-ha-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const log = join(dir, 'log');
  writeFileSync(log, '');
  return {
    dir,
    log: () => readFileSync(log, 'utf8'),
    run: (args: string[], extra: Record<string, string> = {}) => {
      const r = spawnSync(args[0]!, args.slice(1), { cwd: root, encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, ...extra } });
      return { status: r.status, stderr: r.stderr, stdout: r.stdout };
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** psql as the nodes answer it: FAKE_ROLE_1 and FAKE_ROLE_2 are f (primary), t (standby) or down. */
const PSQL = `printf 'psql %s | PGPASSWORD=%s\\n' "$*" "$PGPASSWORD" >>"$FAKE_LOG"
case "$*" in
  *pg_is_in_recovery*)
    case "$*" in *"host=postgres-replica "*) r=$FAKE_ROLE_2 ;; *) r=$FAKE_ROLE_1 ;; esac
    [ "$r" != down ] || exit 2
    echo "$r" ;;
  *pg_stat_replication*) echo 1 ;;
esac`;

describe('docker/postgres/ha.sh sync (pg-sync): what the primary waits for', () => {
  const sandbox = scratch({ psql: PSQL });
  afterAll(() => sandbox.done());
  const sync = (roles: [string, string], extra: Record<string, string> = {}) => {
    writeFileSync(join(sandbox.dir, 'log'), '');
    const e = env('pg-sync');
    const r = sandbox.run(['sh', 'docker/postgres/ha.sh', 'sync'], {
      QTSHOP_PG_NODE_1: e.QTSHOP_PG_NODE_1!,
      QTSHOP_PG_NODE_2: e.QTSHOP_PG_NODE_2!,
      QTSHOP_PG_SYNCHRONOUS: e.QTSHOP_PG_SYNCHRONOUS!,
      FAKE_ROLE_1: roles[0],
      FAKE_ROLE_2: roles[1],
      ...extra,
    });
    const alter = sandbox
      .log()
      .split('\n')
      .find((l) => l.includes('alter system'));
    return { ...r, alter };
  };
  const settings = (host: string, names: string, slots: string) =>
    `psql host=${host} port=5432 dbname=postgres connect_timeout=3 -XAtq -v ON_ERROR_STOP=1 -c alter system set synchronous_standby_names = '${names}' -c alter system set synchronized_standby_slots = '${slots}' -c select pg_reload_conf() | PGPASSWORD=`;

  it('names the streaming standby and its slot, as the local stack does (node 2: node_2 and qtshop_node_2)', () => {
    const r = sync(['f', 't']);
    expect(r.status).toBe(0);
    expect(r.alter).toBe(settings('postgres', `"${standbyNameOf(2)}"`, slotOf(2)));
    expect(sandbox.log()).toContain(`where application_name = '${standbyNameOf(2)}' and state = 'streaming'`);
  });

  it('names node 1 on node 2 after a failover and a rebuild', () => {
    expect(sync(['t', 'f']).alter).toBe(settings('postgres-replica', `"${standbyNameOf(1)}"`, slotOf(1)));
  });

  it('keeps the failover slots but not the commits waiting with PG_SYNCHRONOUS=false', () => {
    expect(sync(['f', 't'], { QTSHOP_PG_SYNCHRONOUS: 'false' }).alter).toBe(settings('postgres', '', slotOf(2)));
  });

  it('clears both when the standby is down, so that the primary works alone', () => {
    const r = sync(['f', 'down']);
    expect(r.alter).toBe(settings('postgres', '', ''));
    expect(r.stderr).toMatch(/primary without a streaming standby/);
  });

  it('changes nothing when both nodes are primaries, or none is', () => {
    for (const roles of [
      ['f', 'f'],
      ['down', 't'],
    ] as Array<[string, string]>) {
      const r = sync(roles);
      expect({ roles, status: r.status, alter: r.alter }).toEqual({ roles, status: 1, alter: undefined });
    }
  });
});

describe('docker/postgres/ha.sh node: how each node starts', () => {
  const sandbox = scratch({
    psql: PSQL,
    pg_isready: 'echo "pg_isready $*" >>"$FAKE_LOG"; [ "$FAKE_PEER" = up ]',
    gosu: 'shift; exec "$@"',
    chown: 'echo "chown $*" >>"$FAKE_LOG"',
    // What pg_basebackup copies: the primary's files, its ALTER SYSTEM settings among them.
    pg_basebackup: [
      'echo "pg_basebackup $*" >>"$FAKE_LOG"',
      'while [ "$1" != -D ]; do shift; done',
      'echo 17 >"$2/PG_VERSION"',
      `printf "%s\\n" "work_mem = '8MB'" "synchronous_standby_names = '\\"node_2\\"'" "synchronized_standby_slots = 'qtshop_node_2'" >"$2/postgresql.auto.conf"`,
    ].join('\n'),
    'docker-entrypoint.sh': 'echo "entrypoint $*" >>"$FAKE_LOG"',
  });
  afterAll(() => sandbox.done());
  const ARGS = ['postgres', '-c', 'wal_level=logical'];
  const start = (id: 1 | 2, opts: { data?: Record<string, string>; peer: 'up' | 'down'; roles?: [string, string] }) => {
    writeFileSync(join(sandbox.dir, 'log'), '');
    const data = join(sandbox.dir, `data-${id}`);
    rmSync(data, { recursive: true, force: true });
    mkdirSync(data);
    for (const [f, content] of Object.entries(opts.data ?? {})) writeFileSync(join(data, f), content);
    const e = env(id === 1 ? 'postgres' : 'postgres-replica');
    const r = sandbox.run(['sh', 'docker/postgres/ha.sh', 'node', ...ARGS], {
      PGDATA: data,
      QTSHOP_PG_NODE_ID: e.QTSHOP_PG_NODE_ID!,
      QTSHOP_PG_NODE_1: e.QTSHOP_PG_NODE_1!,
      QTSHOP_PG_NODE_2: e.QTSHOP_PG_NODE_2!,
      QTSHOP_PG_REPLICATION_PASSWORD: e.QTSHOP_PG_REPLICATION_PASSWORD!,
      FAKE_PEER: opts.peer,
      FAKE_ROLE_1: opts.roles?.[0] ?? 'down',
      FAKE_ROLE_2: opts.roles?.[1] ?? 'down',
    });
    const file = (f: string) => (existsSync(join(data, f)) ? readFileSync(join(data, f), 'utf8') : undefined);
    return { ...r, log: sandbox.log(), file, data };
  };
  const started = `entrypoint ${ARGS.join(' ')}\n`;

  it('starts a node with data as its data says, asking nobody', () => {
    const r = start(2, { data: { PG_VERSION: '17' }, peer: 'up' });
    expect(r.status).toBe(0);
    expect(r.log).toBe(started);
  });

  it('lets the image initialise node 1 when it has no data and node 2 does not answer (the first start)', () => {
    const r = start(1, { peer: 'down' });
    expect(r.status).toBe(0);
    expect(r.log).toBe(`pg_isready -q -h postgres-replica -p 5432 -t 5\n${started}`);
  });

  it('makes node 2 with no data a standby of node 1: its slot, a base backup, the standby’s settings without the primary’s waits', () => {
    const r = start(2, { peer: 'up', roles: ['f', 'down'] });
    const pw = HA_REQUIRED.PG_REPLICATION_PASSWORD;
    expect(r.status).toBe(0);
    expect(r.log).toContain(
      `psql host=postgres port=5432 user=replicator dbname=postgres connect_timeout=5 -XAtq -v ON_ERROR_STOP=1 -c select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '${slotOf(2)}' and not active | PGPASSWORD=${pw}`,
    );
    expect(r.log).toContain(
      `pg_basebackup -d host=postgres port=5432 user=replicator dbname=postgres connect_timeout=5 -D ${r.data} -X stream -C -S ${slotOf(2)} --checkpoint=fast\n`,
    );
    expect(r.file('postgresql.auto.conf')!.split('\n')).toEqual([
      "work_mem = '8MB'",
      `primary_conninfo = 'host=postgres port=5432 user=replicator password=${pw} application_name=${standbyNameOf(2)} dbname=postgres'`,
      `primary_slot_name = '${slotOf(2)}'`,
      '',
    ]);
    expect(r.file('standby.signal')).toBe('');
    expect(r.log.endsWith(started)).toBe(true);
  });

  it('copies node 2 into node 1 when node 2 is the primary (the rebuild after a failover)', () => {
    const r = start(1, { peer: 'up', roles: ['down', 'f'] });
    expect(r.status).toBe(0);
    expect(r.log).toContain(`-S ${slotOf(1)} `);
    expect(r.file('postgresql.auto.conf')).toContain(`primary_conninfo = 'host=postgres-replica port=5432 user=replicator`);
    expect(r.file('postgresql.auto.conf')).toContain(`application_name=${standbyNameOf(1)} dbname=postgres'`);
  });

  it('refuses to copy a node that is not a primary, or to start node 2 with nothing to copy', () => {
    for (const [id, peer, roles] of [
      [2, 'up', ['t', 'down']],
      [2, 'down', ['down', 'down']],
    ] as Array<[1 | 2, 'up' | 'down', [string, string]]>) {
      const r = start(id, { peer, roles });
      expect({ id, peer, roles, status: r.status, copied: r.log.includes('pg_basebackup'), started: r.log.includes('entrypoint') }).toEqual({
        id,
        peer,
        roles,
        status: 1,
        copied: false,
        started: false,
      });
    }
  });

  it('does not start a fenced node, data or not', () => {
    const r = start(1, { data: { PG_VERSION: '17', 'qtshop-fenced': 'was the primary until the failover' }, peer: 'up', roles: ['down', 'f'] });
    expect(r.status).toBe(1);
    expect(r.log).toBe('');
    expect(r.stderr).toMatch(/fenced \(was the primary until the failover\).*failover\.sh rebuild/);
  });
});

describe('docker/postgres/standby-roles.sh', () => {
  const sandbox = scratch({ psql: 'printf "psql %s\\n" "$*" >>"$FAKE_LOG"; [ -t 0 ] || cat >>"$FAKE_LOG"' });
  afterAll(() => sandbox.done());

  it('creates replicator (REPLICATION, its password from the secret) and qtshop_check (no password), who may connect to postgres', () => {
    const sql = read('docker/postgres/standby-roles.sh');
    expect(sql).toMatch(/^\\getenv password QTSHOP_PG_REPLICATION_PASSWORD$/m);
    expect(sql).toMatch(/^ALTER ROLE replicator WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION NOBYPASSRLS PASSWORD :'password';$/m);
    expect(sql).toMatch(/^ALTER ROLE qtshop_check WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD NULL;$/m);
    expect(sql).toMatch(/^GRANT CONNECT ON DATABASE postgres TO replicator, qtshop_check;$/m);
    expect(sql).toContain("RAISE EXCEPTION 'QTSHOP_PG_REPLICATION_PASSWORD is not set'");
  });

  it('puts the proxy check’s and the standby’s pg_hba.conf lines first, once, and reloads', () => {
    const data = join(sandbox.dir, 'data');
    mkdirSync(data);
    const hba = ['local all all trust', 'host all all all scram-sha-256'];
    writeFileSync(join(data, 'pg_hba.conf'), `${hba.join('\n')}\n`);
    for (let i = 0; i < 2; i++) expect(sandbox.run(['sh', 'docker/postgres/standby-roles.sh'], { PGDATA: data }).status).toBe(0);
    const lines = readFileSync(join(data, 'pg_hba.conf'), 'utf8').split('\n');
    expect(lines.map((l) => l.replace(/\s+#.*$/, ''))).toEqual([
      'host postgres qtshop_check samenet trust',
      'host replication replicator samenet scram-sha-256',
      ...hba,
      '',
    ]);
    expect(sandbox.log().match(/select pg_reload_conf\(\)/g)?.length).toBe(2);
  });
});

describe('docker/postgres/failover.sh, with a stand-in for docker compose', () => {
  // Each node's state: running or not, its role, its data folder (where `run ... sh -c` runs its command).
  const COMPOSE = `printf '%s\\n' "$*" >>"$FAKE_LOG"
st=$FAKE_STATE
running() { [ -e "$st/$1.running" ]; }
case "$1" in
  exec)
    running "$3" || exit 1
    case "$*" in
      *host=pg-proxy*) for n in postgres postgres-replica; do if running "$n" && [ "$(cat "$st/$n.role")" = f ]; then echo f; fi; done ;;
      *pg_promote*) echo f >"$st/$3.role" && echo t ;;
      *pg_is_in_recovery*) cat "$st/$3.role" ;;
      *string_agg*) echo qtshop_catalog_outbox ;;
    esac ;;
  stop) rm -f "$st/$2.running" ;;
  up) for svc; do :; done; touch "$st/$svc.running" && echo t >"$st/$svc.role" ;;
  run)
    prev=''
    while [ $# -gt 0 ]; do
      if [ "$1" = -c ]; then PGDATA="$st/$prev.data" sh -c "$2"; exit; fi
      prev=$1 && shift
    done ;;
esac`;
  const sandbox = scratch({ 'fake-compose': COMPOSE });
  afterAll(() => sandbox.done());
  const state = join(sandbox.dir, 'state');
  const setUp = (nodes: Record<string, { running: boolean; role: string }>) => {
    rmSync(state, { recursive: true, force: true });
    for (const [n, s] of Object.entries(nodes)) {
      mkdirSync(join(state, `${n}.data`), { recursive: true });
      writeFileSync(join(state, `${n}.data`, 'PG_VERSION'), '17');
      writeFileSync(join(state, `${n}.role`), `${s.role}\n`);
      if (s.running) writeFileSync(join(state, `${n}.running`), '');
    }
    writeFileSync(join(sandbox.dir, 'log'), '');
  };
  const failover = (cmd: string) => sandbox.run(['sh', 'docker/postgres/failover.sh', cmd], { COMPOSE: 'fake-compose', FAKE_STATE: state });
  /** The log's lines, each found after the one before. */
  const inOrder = (log: string, steps: RegExp[]) => {
    const lines = log.split('\n');
    let at = -1;
    return steps.map((s) => {
      const i = lines.findIndex((l, j) => j > at && s.test(l));
      if (i >= 0) at = i;
      return { step: String(s), found: i >= 0 };
    });
  };

  it('fences the primary before it promotes the standby, clears the new primary’s waits, and waits for the address', () => {
    setUp({ postgres: { running: true, role: 'f' }, 'postgres-replica': { running: true, role: 't' } });
    const r = failover('failover');
    expect(r.status).toBe(0);
    const steps = [
      /^stop postgres$/,
      /^run --rm --no-deps -T --entrypoint sh postgres -c .*qtshop-fenced/,
      /^exec -T postgres-replica psql .* -c select pg_promote\(true, 60\)$/,
      /^exec -T postgres-replica psql .* -c alter system set synchronous_standby_names = '' -c alter system set synchronized_standby_slots = '' -c select pg_reload_conf\(\)$/,
      /^exec -T postgres-replica psql -XAtq host=pg-proxy port=5432 user=qtshop_check dbname=postgres connect_timeout=2 -c select pg_is_in_recovery\(\)$/,
    ];
    expect(inOrder(sandbox.log(), steps)).toEqual(steps.map((s) => ({ step: String(s), found: true })));
    expect(sandbox.log()).not.toMatch(/^stop postgres-replica$/m);
    // The mark it leaves is the one ha.sh refuses to start a node with.
    const node = sandbox.run(['sh', 'docker/postgres/ha.sh', 'node', 'postgres'], { PGDATA: join(state, 'postgres.data'), QTSHOP_PG_NODE_ID: '1' });
    expect(node.status).toBe(1);
    expect(node.stderr).toMatch(/node_1: fenced \(.* was the primary until the failover to postgres-replica\)/);
  });

  it('refuses when there is no standby to promote, and stops nothing', () => {
    setUp({ postgres: { running: true, role: 'f' }, 'postgres-replica': { running: false, role: 't' } });
    const r = failover('failover');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no standby to promote/);
    expect(sandbox.log()).not.toMatch(/^(stop|run|up) /m);
  });

  it('rebuilds the fenced node: wiped, started (ha.sh copies the primary), the proxy restarted, pg-sync run', () => {
    setUp({ postgres: { running: false, role: 'f' }, 'postgres-replica': { running: true, role: 'f' } });
    writeFileSync(join(state, 'postgres.data', 'qtshop-fenced'), 'was the primary');
    const r = failover('rebuild');
    expect(r.status).toBe(0);
    const steps = [
      /^stop postgres$/,
      /^run --rm --no-deps -T --entrypoint sh postgres -c find "\$PGDATA" -mindepth 1 -delete$/,
      /^up -d --no-deps postgres$/,
      /^restart pg-proxy$/,
      /^run --rm --no-deps pg-sync$/,
    ];
    expect(inOrder(sandbox.log(), steps)).toEqual(steps.map((s) => ({ step: String(s), found: true })));
    expect(existsSync(join(state, 'postgres.data', 'qtshop-fenced'))).toBe(false);
    expect(existsSync(join(state, 'postgres.data', 'PG_VERSION'))).toBe(false);
  });
});

describe('docker/postgres: the scripts parse', () => {
  it.each(['ha.sh', 'standby-roles.sh', 'failover.sh'])('%s (POSIX sh)', (f) => {
    expect(spawnSync('sh', ['-n', `docker/postgres/${f}`], { cwd: root, encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
  });
  it('proxy-healthcheck.sh (bash, as the haproxy image has it)', () => {
    expect(spawnSync('bash', ['-n', 'docker/postgres/proxy-healthcheck.sh'], { cwd: root, encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
  });
});

describe('docker/postgres/proxy-healthcheck.sh, against a stand-in for the proxy', () => {
  const text = read('docker/postgres/proxy-healthcheck.sh');
  const hex = (name: string) => Buffer.from(new RegExp(`^${name}=([0-9a-f]+)$`, 'm').exec(text)![1]!, 'hex');
  const sent = Buffer.concat([hex('startup'), hex('query'), hex('terminate')]);
  /** A server that reads the check's messages and answers with `reply` (or closes at once, as the proxy does without a primary). */
  const check = async (reply: Buffer | undefined): Promise<{ ok: boolean; received: Buffer }> => {
    let received = Buffer.alloc(0);
    const server = createServer((socket) => {
      if (!reply) return socket.destroy();
      socket.on('data', (d) => {
        received = Buffer.concat([received, d]);
        if (received.length >= sent.length) socket.end(reply);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    try {
      await promisify(execFile)('bash', ['docker/postgres/proxy-healthcheck.sh'], {
        cwd: root,
        env: { PATH: process.env.PATH, QTSHOP_PG_BIND: `0.0.0.0:${port}` },
      });
      return { ok: true, received };
    } catch {
      return { ok: false, received };
    } finally {
      server.close();
    }
  };
  const AUTH_OK = Buffer.from('520000000800000000', 'hex');
  const row = (value: string) => Buffer.concat([Buffer.from('440000000b0001000000', 'hex'), Buffer.from([1]), Buffer.from(value)]);
  const READY = Buffer.from('5a0000000549', 'hex');

  it('sends the startup, the query and the terminate, byte for byte, and is healthy when the row says f', async () => {
    const r = await check(Buffer.concat([AUTH_OK, READY, row('f'), READY]));
    expect(r).toEqual({ ok: true, received: sent });
  });

  it('is unhealthy when the node says t, or when the proxy closes the connection', async () => {
    expect((await check(Buffer.concat([AUTH_OK, READY, row('t'), READY]))).ok).toBe(false);
    expect((await check(undefined)).ok).toBe(false);
  });
});
