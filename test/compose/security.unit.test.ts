// The security of docker-compose.yml and its override files (cluster, ha), checked statically like the rest of
// test/compose/ (no Docker engine runs here): Kafka with SASL on every listener, the StandardAuthorizer and
// the ACLs of the policy; a principal, a PostgreSQL role and a secret of its own for every container, and
// none of another's; Kafka Connect's clients and REST API authenticated; MongoDB with authentication; the
// infrastructure's ports on this machine only. What the official images do with the environment is written
// down here where the tests depend on it (the apache/kafka image's KAFKA_* mapping, the Debezium image's
// CONNECT_* mapping), from their sources.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '@qtshop/shared/events';
import { CONNECT_REST_USERS, infraFrom, infraSettings, KAFKA_PRINCIPALS, loadInfra, PG_REPLICATION_ROLES, PG_ROLES, PG_SUPERUSER } from '@qtshop/shared/infra';
import { loadConfig, loggingSettings, type Settings } from '@qtshop/shared/platform';
import { aclEntries, kafkaGrants, SHOP_SERVICES, SUPER_USERS, type ShopService } from '@qtshop/shared/tooling';
import { connectorFiles, readConnectorFile } from '@qtshop/shared/delivery';
import { relaySettings } from '../../services/relay/src/config';
import { SERVICE_SETTINGS } from '../../scripts/service-settings';
import { ACLS_FILE, createRolesSql, generatedComposeFiles, PG_ROLES_FILE, staleComposeFiles, TOPICS_FILE, writeComposeFiles } from '../../scripts/compose-init';
import {
  allStrings,
  cluster,
  clusterService,
  commandOf,
  dependsOn,
  envExample,
  envOf,
  ha,
  HA_REQUIRED,
  haProject,
  healthcheckOf,
  IMAGE_ENV,
  mountsOf,
  publishedOn,
  rawEnvOf,
  read,
  repoPathOf,
  REQUIRED,
  requiredVarOf,
  requiredVarsIn,
  root,
  SECRET_PLACEHOLDER,
  serviceFolderOf,
  services,
  type ComposeService,
} from './compose-file';

const upper = (name: string) => name.toUpperCase().replace(/-/g, '_');
/** A service of docker-compose.yml; an empty one when the file has none of that name (the tests then fail one by one). */
const svcOf = (name: string): ComposeService => services[name] ?? {};
/** The repository file a container runs as `sh <script>` (command, entrypoint or healthcheck), through its bind mounts. */
const scriptOf = (svc: ComposeService, words: string) => repoPathOf(svc, words.split(' ').find((w) => w.endsWith('.sh')) ?? '');

/** The containers that run a shop service, by compose service name (= its folder under services/). */
const SHOP = SHOP_SERVICES.map((name) => ({ name, svc: svcOf(name) }));
/** The one-shot jobs of the services image, which run the operator's tools as the superuser. */
const JOBS = ['migrate', 'register-connectors'] as const;

// ---------------------------------------------------------------- Kafka brokers

/**
 * The server properties the apache/kafka image makes of a container's environment (KafkaDockerWrapper,
 * getServerConfigsFromEnv): every KAFKA_* variable but the JVM's and logging's, `KAFKA_` removed, lower
 * case, `_` a dot, `__` an underscore, `___` a dash.
 */
const KAFKA_IMAGE_NON_PROPERTIES = new Set([
  'KAFKA_VERSION',
  'KAFKA_HEAP_OPT',
  'KAFKA_LOG4J_OPTS',
  'KAFKA_OPTS',
  'KAFKA_JMX_OPTS',
  'KAFKA_JVM_PERFORMANCE_OPTS',
  'KAFKA_GC_LOG_OPTS',
  'KAFKA_LOG4J_ROOT_LOGLEVEL',
  'KAFKA_LOG4J_LOGGERS',
  'KAFKA_TOOLS_LOG4J_LOGLEVEL',
  'KAFKA_JMX_HOSTNAME',
]);
function kafkaServerProperties(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter(([k]) => k.startsWith('KAFKA_') && !KAFKA_IMAGE_NON_PROPERTIES.has(k))
      .map(([k, v]) => [
        k
          .split('KAFKA_')
          .join('')
          .toLowerCase()
          .replace(/_/g, '.')
          .replace(/\.\.\./g, '-')
          .replace(/\.\./g, '_'),
        v,
      ]),
  );
}

const BROKERS: Array<[string, ComposeService]> = [
  ['kafka', svcOf('kafka')],
  ['kafka (cluster)', clusterService('kafka')],
  ['kafka-2 (cluster)', clusterService('kafka-2')],
  ['kafka-3 (cluster)', clusterService('kafka-3')],
];
const brokerPassword = requiredVarOf(rawEnvOf(svcOf('kafka-init')).QTSHOP_BROKER_PASSWORD);
const listenersOf = (value: string | undefined) =>
  Object.fromEntries((value ?? '').split(',').map((l) => [l.slice(0, l.indexOf('://')), l.slice(l.indexOf('://') + 3)] as const));

describe('the apache/kafka image mapping of KAFKA_* variables (as written above)', () => {
  it('makes dots of `_`, underscores of `__` and dashes of `___`, and leaves the JVM options alone', () => {
    expect(
      kafkaServerProperties({
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'a',
        KAFKA_LISTENER_NAME_INTERNAL_SCRAM___SHA___256_SASL_JAAS_CONFIG: 'b',
        KAFKA_ABC__DEF: 'c',
        KAFKA_OPTS: '-Dx',
        QTSHOP_BROKER_PASSWORD: 'p',
      }),
    ).toEqual({ 'listener.security.protocol.map': 'a', 'listener.name.internal.scram-sha-256.sasl.jaas.config': 'b', abc_def: 'c' });
  });
});

describe.each(BROKERS)('compose broker %s', (_, broker) => {
  const env = envOf(broker);
  const raw = rawEnvOf(broker);
  const props = kafkaServerProperties(env);
  const rawProps = kafkaServerProperties(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)])));
  const protocols = Object.fromEntries((props['listener.security.protocol.map'] ?? '').split(',').map((e) => e.split(':') as [string, string]));
  const listeners = listenersOf(props.listeners);
  const advertised = listenersOf(props['advertised.listeners']);

  it('speaks SASL on every listener, the controller and inter-broker ones included', () => {
    expect(Object.keys(listeners).sort()).toEqual(['CONTROLLER', 'HOST', 'INTERNAL']);
    for (const name of [...Object.keys(listeners), ...Object.keys(advertised)])
      expect({ name, protocol: protocols[name] }).toEqual({ name, protocol: 'SASL_PLAINTEXT' });
    expect(Object.values(protocols).filter((p) => p !== 'SASL_PLAINTEXT')).toEqual([]);
    expect(props).toMatchObject({ 'controller.listener.names': 'CONTROLLER', 'inter.broker.listener.name': 'INTERNAL' });
    // The other containers' bootstrap address (kafka:9092) is the internal listener's.
    expect(listeners.INTERNAL).toBe(':9092');
    expect(advertised.INTERNAL).toMatch(/^kafka(-\d)?:9092$/);
  });

  it('lets brokers and controllers in as `broker` with SASL/PLAIN (one secret), and clients with SCRAM only', () => {
    expect(props).toMatchObject({ 'sasl.mechanism.inter.broker.protocol': 'PLAIN', 'sasl.mechanism.controller.protocol': 'PLAIN' });
    const mechanisms = (listener: string) => props[`listener.name.${listener}.sasl.enabled.mechanisms`]?.split(',').sort();
    expect(mechanisms('controller')).toEqual(['PLAIN']);
    expect(mechanisms('internal')).toEqual(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
    // Nobody logs in as `broker` from outside the compose network.
    expect(mechanisms('host')).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-512']);
    for (const listener of ['controller', 'internal', 'host']) {
      for (const mechanism of mechanisms(listener)!) {
        const key = `listener.name.${listener}.${mechanism.toLowerCase()}.sasl.jaas.config`;
        if (mechanism === 'PLAIN') {
          const plain =
            /^org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule required username="broker" password="([^"]+)" user_broker="([^"]+)";$/.exec(
              rawProps[key] ?? '',
            );
          expect({ key, password: requiredVarOf(plain?.[1]), user: requiredVarOf(plain?.[2]) }).toEqual({
            key,
            password: brokerPassword,
            user: brokerPassword,
          });
        } else {
          expect({ key, jaas: props[key] }).toEqual({ key, jaas: 'org.apache.kafka.common.security.scram.ScramLoginModule required;' });
        }
      }
    }
    expect(brokerPassword).toBe('KAFKA_BROKER_PASSWORD');
  });

  it('authorizes every request with the StandardAuthorizer: the ACLs, and the super users of the policy', () => {
    expect(props['authorizer.class.name']).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect((props['super.users'] ?? '').split(';').sort()).toEqual(SUPER_USERS.map((u) => `User:${u}`).sort());
    expect(props['allow.everyone.if.no.acl.found']).toBeUndefined();
  });

  it('keeps its helper variables out of the server properties, and checks its health over SASL as `broker`', () => {
    expect(Object.keys(raw).filter((k) => k.startsWith('KAFKA_') && /PASSWORD/.test(k))).toEqual([]);
    expect(requiredVarOf(raw.QTSHOP_BROKER_PASSWORD)).toBe(brokerPassword);
    expect(env.BOOTSTRAP).toBe(advertised.INTERNAL);
    const script = scriptOf(broker, healthcheckOf(broker));
    expect(script).toBe('docker/kafka/healthcheck.sh');
    expect(read(script!)).toMatch(/broker-client\.sh[\s\S]*kafka-topics\.sh" --bootstrap-server "\$\{BOOTSTRAP:\?\}" --command-config "\$COMMAND_CONFIG"/);
    expect(read('docker/kafka/broker-client.sh')).toMatch(
      /security\.protocol=SASL_PLAINTEXT[\s\S]*sasl\.mechanism=PLAIN[\s\S]*username=\\"broker\\" password=\\"\$QTSHOP_BROKER_PASSWORD\\"/,
    );
  });
});

describe('the cluster profile (docker-compose.cluster.yml)', () => {
  const securityKeys = (svc: ComposeService) =>
    Object.fromEntries(
      Object.entries(rawEnvOf(svc)).filter(([k]) => /SASL|SECURITY|LISTENER_NAME|AUTHORIZER|SUPER_USERS|INTER_BROKER|CONTROLLER_LISTENER/.test(k)),
    );

  it('runs the added brokers with the base file’s broker security unchanged (cluster.unit.test.ts: the rest of it)', () => {
    for (const b of ['kafka-2', 'kafka-3']) {
      expect(cluster.services[b]).toBeDefined();
      expect(securityKeys(clusterService(b))).toEqual(securityKeys(svcOf('kafka')));
    }
    expect(Object.keys(securityKeys(svcOf('kafka'))).length).toBeGreaterThan(10);
  });

  it('prepares Kafka once all three brokers are healthy, through all of them', () => {
    const init = cluster.services['kafka-init'] ?? {};
    expect(dependsOn(init)).toMatchObject({ 'kafka-2': 'service_healthy', 'kafka-3': 'service_healthy' });
    expect(envOf(init).BOOTSTRAP!.split(',').sort()).toEqual(['kafka-2:9092', 'kafka-3:9092', 'kafka:9092']);
    expect(dependsOn(cluster.services['connect-2'] ?? {})['kafka-init']).toBe('service_completed_successfully');
  });
});

// ---------------------------------------------------------------- kafka-init and the policy

describe('compose job kafka-init', () => {
  const init = svcOf('kafka-init');
  const raw = rawEnvOf(init);
  const script = scriptOf(init, commandOf(init));
  const text = read(script ?? 'docker/kafka/init.sh');

  it('runs docker/kafka/init.sh in the brokers’ image once they are healthy, and before anything that uses Kafka', () => {
    expect(init.image).toBe(svcOf('kafka').image);
    expect(script).toBe('docker/kafka/init.sh');
    expect(dependsOn(init)).toEqual({ kafka: 'service_healthy' });
    expect(init.restart).toBe('no');
    expect(envOf(init).BOOTSTRAP).toBe('kafka:9092');
    const users = Object.entries(services).filter(([, svc]) => 'KAFKA_BROKERS' in rawEnvOf(svc) && rawEnvOf(svc).KAFKA_SASL_MECHANISM !== 'none');
    expect(users.map(([n]) => n).sort()).toEqual([...SHOP_SERVICES].sort());
    for (const [name, svc] of [...users, ['connect', svcOf('connect')] as const])
      expect({ name, init: dependsOn(svc)['kafka-init'] }).toEqual({ name, init: 'service_completed_successfully' });
  });

  it('creates the SCRAM credentials of exactly the principals of the shop, each from a secret of its own', () => {
    const principals = Object.keys(raw)
      .filter((k) => k.startsWith('QTSHOP_KAFKA_PASSWORD_'))
      .map((k) => k.slice('QTSHOP_KAFKA_PASSWORD_'.length).toLowerCase().replace(/_/g, '-'));
    expect(principals.sort()).toEqual([...KAFKA_PRINCIPALS].sort());
    for (const p of KAFKA_PRINCIPALS) expect(requiredVarOf(raw[`QTSHOP_KAFKA_PASSWORD_${upper(p)}`])).toBe(`KAFKA_${upper(p)}_PASSWORD`);
    expect(text).toMatch(
      /kafka-configs\.sh" --bootstrap-server "\$BOOTSTRAP" --command-config "\$COMMAND_CONFIG" \\\n\s+--alter --add-config "\$mechanism=\[password=\$password\]" --entity-type users --entity-name "\$principal"/,
    );
    // Every mechanism a client may choose (KAFKA_SASL_MECHANISM), one per call.
    const mechanisms = /mechanisms="\$\{SCRAM_MECHANISMS:-([^}]+)\}"/.exec(text)?.[1]?.split(' ');
    expect(mechanisms?.sort()).toEqual(
      infraSettings.KAFKA_SASL_MECHANISM.schema.options
        .filter((m) => m !== 'none')
        .map((m) => m.toUpperCase())
        .sort(),
    );
  });

  it('creates the outbox topics and applies the ACLs of the generated scripts, as the brokers’ principal', () => {
    expect(text).toMatch(/\. "\$here\/broker-client\.sh"/);
    expect(text).toMatch(/sh "\$here\/topics\.sh"[\s\S]*sh "\$here\/acls\.sh"/);
    expect(repoPathOf(init, '/opt/qtshop/kafka/acls.sh')).toBe(ACLS_FILE);
    expect(repoPathOf(init, '/opt/qtshop/kafka/topics.sh')).toBe(TOPICS_FILE);
  });
});

/** The `kafka-acls.sh --add` arguments of acls.sh, read back as the shell would split them. */
function parseAcls(text: string): Array<{ principal: string; resource: string; name: string; pattern: string; operations: string[] }> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('acl '))
    .map((line) => {
      const words = [...line.slice(4).matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!));
      const out = { principal: '', resource: '', name: '', pattern: '', operations: [] as string[] };
      for (let i = 0; i < words.length; i += 2) {
        const [flag, value] = [words[i]!, words[i + 1]!];
        if (flag === '--allow-principal') out.principal = value;
        else if (flag === '--resource-pattern-type') out.pattern = value;
        else if (flag === '--operation') out.operations.push(value);
        else [out.resource, out.name] = [flag.slice(2), value];
      }
      return out;
    });
}

describe('the generated compose init files (npm run -s compose-init)', () => {
  it('are what the code generates (run npm run -s compose-init -- --write after changing the policy, the topics or the roles)', () => {
    expect(Object.keys(generatedComposeFiles()).sort()).toEqual([ACLS_FILE, PG_ROLES_FILE, TOPICS_FILE].sort());
    expect(staleComposeFiles()).toEqual([]);
    expect(JSON.parse(read('package.json')).scripts['compose-init']).toBe('tsx scripts/compose-init.ts');
  });

  it('are found stale when one differs or is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qtshop-compose-init-'));
    try {
      writeComposeFiles(dir);
      expect(staleComposeFiles(dir)).toEqual([]);
      const generated = generatedComposeFiles();
      writeFileSync(join(dir, ACLS_FILE), `${generated[ACLS_FILE]}acl --allow-principal User:basket --topic qtshop. --operation All\n`);
      rmSync(join(dir, TOPICS_FILE));
      writeFileSync(join(dir, PG_ROLES_FILE), generated[PG_ROLES_FILE]!.replace(/ NOREPLICATION /, ' REPLICATION '));
      expect(staleComposeFiles(dir)).toEqual([ACLS_FILE, PG_ROLES_FILE, TOPICS_FILE].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docker/kafka/acls.sh and topics.sh', () => {
  it('grant exactly the policy’s ACL entries, in kafka-acls.sh’s names', () => {
    const OPS: Record<string, string> = {
      Read: 'READ',
      Write: 'WRITE',
      Create: 'CREATE',
      Describe: 'DESCRIBE',
      DescribeConfigs: 'DESCRIBE_CONFIGS',
      All: 'ALL',
    };
    const RES: Record<string, string> = { topic: 'TOPIC', group: 'GROUP', 'transactional-id': 'TRANSACTIONAL_ID' };
    const fromScript = parseAcls(read(ACLS_FILE)).flatMap((a) =>
      a.operations.map((op) => [a.principal, RES[a.resource] ?? `?${a.resource}`, a.name, a.pattern.toUpperCase(), OPS[op] ?? `?${op}`].join('|')),
    );
    // One line per entry the local stack applies (aclEntries: one per operation of a grant), and the same entries.
    expect(fromScript.length).toBe(aclEntries(kafkaGrants()).length);
    const expected = kafkaGrants().flatMap((g) =>
      g.operations.map((op) => [`User:${g.principal}`, RES[g.resource], g.name, g.pattern.toUpperCase(), op.toUpperCase().replace(/-/g, '_')].join('|')),
    );
    expect(fromScript.sort()).toEqual(expected.sort());
  });

  it('create exactly the outbox topics of the event registry', () => {
    const topics = [...read(TOPICS_FILE).matchAll(/^topic (\S+)$/gm)].map((m) => m[1]);
    expect(topics.sort()).toEqual([...TOPICS].sort());
  });
});

// ---------------------------------------------------------------- every container's own credentials

describe.each(SHOP)('compose service $name: credentials of its own', ({ name, svc }) => {
  const raw = rawEnvOf(svc);
  const settings = SERVICE_SETTINGS[name];
  const defaults = loadConfig(settings, {});

  it('logs in to Kafka as its own principal (the default of its KAFKA_USERNAME) with SCRAM, with the secret kafka-init gives it', () => {
    expect(raw.KAFKA_USERNAME).toBe(name);
    expect(defaults.KAFKA_USERNAME).toBe(name);
    expect(requiredVarOf(raw.KAFKA_PASSWORD)).toBe(requiredVarOf(rawEnvOf(svcOf('kafka-init'))[`QTSHOP_KAFKA_PASSWORD_${upper(name)}`]));
    expect(loadConfig(settings, { ...IMAGE_ENV, ...envOf(svc) }).KAFKA_SASL_MECHANISM).toMatch(/^scram-sha-(256|512)$/);
  });

  it('logs in to PostgreSQL as its own role (the default of its PG_USER), with the secret the role is created with; the basket not at all', () => {
    const pg = rawEnvOf(svcOf('postgres'));
    if (name === 'basket') {
      expect({ user: raw.PG_USER, password: raw.PG_PASSWORD }).toEqual({ user: undefined, password: undefined });
      return;
    }
    expect(raw.PG_USER).toBe(defaults.PG_USER);
    expect(PG_ROLES).toContain(raw.PG_USER);
    expect(requiredVarOf(raw.PG_PASSWORD)).toBe(requiredVarOf(pg[`QTSHOP_PG_PASSWORD_${upper(String(raw.PG_USER))}`]));
  });
});

describe('compose: every secret in the containers that need it, and no other', () => {
  /** The secrets each service refers to, anywhere in its definition (base file, then the cluster profile). */
  const secretsOf = (svc: ComposeService) => new Set(allStrings(svc).flatMap(requiredVarsIn));
  const holders = (all: Record<string, ComposeService>) => {
    const out: Record<string, string[]> = {};
    for (const [name, svc] of Object.entries(all)) for (const v of secretsOf(svc)) (out[v] ??= []).push(name);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.sort()]));
  };
  const SHOPPERS = ['basket', 'order-command', 'order-query'];
  const EXPECTED: Record<string, string[]> = {
    ADMIN_TOKEN: ['basket', 'catalog', 'inventory', 'order-command', 'order-query'],
    AUTH_JWT_SECRET: SHOPPERS,
    GRAFANA_ADMIN_PASSWORD: ['grafana'],
    PG_SUPERUSER_PASSWORD: ['migrate', 'postgres', 'register-connectors'],
    PG_CATALOG_PASSWORD: ['catalog', 'postgres'],
    PG_INVENTORY_PASSWORD: ['inventory', 'postgres'],
    PG_ORDER_COMMAND_PASSWORD: ['order-command', 'postgres'],
    PG_ORDER_QUERY_PASSWORD: ['order-query', 'postgres'],
    PG_RELAY_PASSWORD: ['postgres', 'relay'],
    PG_DEBEZIUM_PASSWORD: ['connect', 'postgres'],
    KAFKA_BROKER_PASSWORD: ['kafka', 'kafka-init'],
    // The operator's tools run on the host, not in compose.
    KAFKA_OPERATOR_PASSWORD: ['kafka-init'],
    KAFKA_CONNECT_PASSWORD: ['connect', 'kafka-init'],
    ...Object.fromEntries(SHOP_SERVICES.map((s) => [`KAFKA_${upper(s)}_PASSWORD`, [s, 'kafka-init'].sort()])),
    // migrate needs it only because the infrastructure settings ask every process for Connect credentials.
    CONNECT_OPERATOR_PASSWORD: ['connect', 'migrate', 'register-connectors'],
    CONNECT_RELAY_PASSWORD: ['connect', 'relay'],
    MONGO_ROOT_PASSWORD: ['basket', 'mongo'],
  };

  it('is held by exactly the containers that use it (one secret per principal: a container holds only its own)', () => {
    expect(holders(services)).toEqual(EXPECTED);
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(REQUIRED).sort());
  });

  it('is held the same way under the cluster profile (its added brokers and worker as their base service)', () => {
    const merged = Object.fromEntries(Object.keys({ ...services, ...cluster.services }).map((n) => [n, clusterService(n)]));
    const expected = { ...EXPECTED };
    for (const [added, base] of [
      ['kafka-2', 'kafka'],
      ['kafka-3', 'kafka'],
      ['connect-2', 'connect'],
    ] as const)
      for (const [k, v] of Object.entries(expected)) if (v.includes(base)) expected[k] = [...v, added].sort();
    expect(holders(merged)).toEqual(expected);
  });

  it('is held the same way under docker-compose.ha.yml, but for the standby’s own secret and the pg-sync job', () => {
    const expected: Record<string, string[]> = {
      ...EXPECTED,
      // pg-sync sets the primary's synchronous_standby_names (ALTER SYSTEM) as the superuser.
      PG_SUPERUSER_PASSWORD: [...EXPECTED.PG_SUPERUSER_PASSWORD!, 'pg-sync'].sort(),
      // The primary creates the role `replicator` with it; the standby copies and follows the primary as it.
      PG_REPLICATION_PASSWORD: ['postgres', 'postgres-replica'],
    };
    expect(holders(haProject())).toEqual(expected);
    expect(Object.keys(expected).sort()).toEqual(Object.keys({ ...REQUIRED, ...HA_REQUIRED }).sort());
  });

  it('is not a password everyone knows: no container gets a literal password', () => {
    for (const [name, svc] of Object.entries({ ...services, ...haProject() })) {
      for (const [key, value] of Object.entries(rawEnvOf(svc))) {
        const v = String(value);
        if (!/PASSWORD|SECRET|TOKEN/.test(key) && !/password=|:[^/@:]*@/.test(v)) continue;
        expect({ name, key, secret: requiredVarsIn(v).length > 0 }).toEqual({ name, key, secret: true });
      }
    }
  });
});

describe.each(JOBS)('compose job %s', (name) => {
  const raw = rawEnvOf(svcOf(name));

  it('is the operator’s: PostgreSQL as the superuser, Connect as `operator`, and no Kafka client', () => {
    expect(raw.PG_USER).toBe(PG_SUPERUSER);
    expect(requiredVarOf(raw.PG_PASSWORD)).toBe(requiredVarOf(rawEnvOf(svcOf('postgres')).POSTGRES_PASSWORD));
    expect(raw.CONNECT_USERNAME).toBe('operator');
    expect(requiredVarOf(raw.CONNECT_PASSWORD)).toBe(requiredVarOf(rawEnvOf(svcOf('connect')).QTSHOP_CONNECT_OPERATOR_PASSWORD));
    expect(raw.KAFKA_SASL_MECHANISM).toBe('none');
    expect(raw.KAFKA_PASSWORD).toBeUndefined();
    // `none` only where nothing connects to Kafka: the scripts these jobs run make no Kafka client.
    for (const script of ['scripts/migrate.ts', 'scripts/connect.ts'])
      expect({ script, kafka: /createKafka|kafkajs/.test(read(script)) }).toEqual({ script, kafka: false });
  });
});

/**
 * Every container that runs our code starts under NODE_ENV=production with the environment compose gives
 * it: its settings load, and so does the infrastructure they name (credentials included), which refuses
 * development passwords.
 */
describe('compose: every container of the services image starts under NODE_ENV=production', () => {
  const ours = Object.entries(services).filter(([, svc]) => svc.image === svcOf('catalog').image);
  const settingsOf = (name: string, svc: ComposeService): Settings => {
    const folder = serviceFolderOf(svc) as ShopService | undefined;
    return folder ? SERVICE_SETTINGS[folder] : { ...infraSettings, ...loggingSettings, RELAY_MODE: relaySettings.RELAY_MODE };
  };

  it.each(ours.map(([n]) => n))('%s', (name) => {
    const svc = svcOf(name);
    const env = { ...IMAGE_ENV, ...envOf(svc) };
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production'; // what the code reads where it is not handed an environment
    try {
      if (serviceFolderOf(svc)) infraFrom(loadConfig(settingsOf(name, svc), env) as never);
      else loadInfra(env);
    } finally {
      process.env.NODE_ENV = saved;
    }
  });
});

// ---------------------------------------------------------------- Kafka Connect

describe('compose service connect: its Kafka clients, its REST API, its database credentials', () => {
  const connect = svcOf('connect');
  const raw = rawEnvOf(connect);
  const env = envOf(connect);
  const start = scriptOf(connect, commandOf({ command: (connect as { entrypoint?: string[] }).entrypoint }));
  const startText = read(start ?? 'docker/connect/start.sh');

  it('lets no connector config override its Kafka clients (their principal included), and sends at once', () => {
    expect(env.CONNECT_CONNECTOR_CLIENT_CONFIG_OVERRIDE_POLICY).toBe('None');
    expect(env.CONNECT_PRODUCER_LINGER_MS).toBe('0');
    for (const f of connectorFiles()) expect(Object.keys(readConnectorFile(f)).filter((k) => /^(producer|consumer|admin)\.override\./.test(k))).toEqual([]);
  });

  it('logs in as `connect` with SCRAM for the worker and for the producers, consumers and admin clients it makes', () => {
    for (const prefix of ['', 'PRODUCER_', 'CONSUMER_', 'ADMIN_']) {
      expect({ prefix, protocol: env[`CONNECT_${prefix}SECURITY_PROTOCOL`], mechanism: env[`CONNECT_${prefix}SASL_MECHANISM`] }).toEqual({
        prefix,
        protocol: 'SASL_PLAINTEXT',
        mechanism: 'SCRAM-SHA-256',
      });
      const jaas = /^org\.apache\.kafka\.common\.security\.scram\.ScramLoginModule required username="connect" password="([^"]+)";$/.exec(
        String(raw[`CONNECT_${prefix}SASL_JAAS_CONFIG`]),
      );
      expect({ prefix, password: requiredVarOf(jaas?.[1]) }).toEqual({
        prefix,
        password: requiredVarOf(rawEnvOf(svcOf('kafka-init')).QTSHOP_KAFKA_PASSWORD_CONNECT),
      });
    }
  });

  it('keeps its secrets out of its log: every CONNECT_* property that carries one is among SENSITIVE_PROPERTIES, the others are not CONNECT_*', () => {
    // The image prints every CONNECT_* variable it turns into a property unless SENSITIVE_PROPERTIES names it
    // (debezium/container-images, connect-base/3.3/docker-entrypoint.sh).
    const sensitive = (env.SENSITIVE_PROPERTIES ?? '').split(',');
    const carrying = Object.entries(raw).filter(([, v]) => requiredVarsIn(v).length > 0);
    for (const [k] of carrying.filter(([k]) => k.startsWith('CONNECT_'))) expect({ k, hidden: sensitive.includes(k) }).toEqual({ k, hidden: true });
    expect(
      carrying
        .filter(([k]) => k.startsWith('CONNECT_'))
        .map(([k]) => k)
        .sort(),
    ).toEqual(['CONNECT_SASL_JAAS_CONFIG', 'CONNECT_PRODUCER_SASL_JAAS_CONFIG', 'CONNECT_CONSUMER_SASL_JAAS_CONFIG', 'CONNECT_ADMIN_SASL_JAAS_CONFIG'].sort());
  });

  it('asks every REST request for a user (HTTP basic auth) of a file written from the environment at start', () => {
    expect(env.CONNECT_REST_EXTENSION_CLASSES).toBe('org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension');
    // The image's Kafka (the release tarball, libs/ kept) ships connect-basic-auth-extension-<version>.jar.
    expect(start).toBe('docker/connect/start.sh');
    expect(connect.command).toEqual(['start']);
    expect(startText).toMatch(/exec \/docker-entrypoint\.sh "\$@"/);
    const jaasPath = /REST_JAAS="\$REST_DIR\/([^"]+)"/.exec(startText)?.[1];
    const dir = /REST_DIR=(\S+)/.exec(startText)?.[1];
    expect(env.KAFKA_OPTS).toContain(`-Djava.security.auth.login.config=${dir}/${jaasPath}`);
    expect(startText).toMatch(/org\.apache\.kafka\.connect\.rest\.basic\.auth\.extension\.PropertyFileLoginModule required file="%s"/);
    const users = /printf '((?:[a-z]+=%s\\n)+)'/
      .exec(startText)?.[1]
      ?.split('\\n')
      .filter(Boolean)
      .map((l) => l.split('=')[0]);
    expect(users?.sort()).toEqual([...CONNECT_REST_USERS].sort());
    for (const u of CONNECT_REST_USERS) {
      expect(startText).toContain(`"$QTSHOP_CONNECT_${upper(u)}_PASSWORD"`);
      expect(requiredVarOf(raw[`QTSHOP_CONNECT_${upper(u)}_PASSWORD`])).toBe(`CONNECT_${upper(u)}_PASSWORD`);
    }
    // Not passed on to the worker (whose connectors may read the environment through ${env:...}).
    expect(startText).toMatch(/unset QTSHOP_CONNECT_OPERATOR_PASSWORD QTSHOP_CONNECT_RELAY_PASSWORD/);
  });

  it('answers its healthcheck only to a REST user, whose password reaches curl on its standard input', () => {
    const script = scriptOf(connect, healthcheckOf(connect));
    expect(script).toBe('docker/connect/healthcheck.sh');
    expect(read(script!)).toMatch(/printf 'user = "operator:%s"\\n' "\$\{QTSHOP_CONNECT_OPERATOR_PASSWORD:\?\}" \|\s+curl -fsS -K - /);
  });

  it('gives the relay and the operator’s jobs the REST users the worker knows', () => {
    const relay = rawEnvOf(svcOf('relay'));
    expect(relay.CONNECT_USERNAME).toBe('relay');
    expect(loadConfig(relaySettings, {}).CONNECT_USERNAME).toBe('relay');
    expect(requiredVarOf(relay.CONNECT_PASSWORD)).toBe(requiredVarOf(raw.QTSHOP_CONNECT_RELAY_PASSWORD));
    for (const s of SHOP_SERVICES.filter((s) => s !== 'relay'))
      expect({ s, password: rawEnvOf(svcOf(s)).CONNECT_PASSWORD }).toEqual({ s, password: undefined });
  });

  it('holds Debezium’s database credentials only, the role the connector files name', () => {
    expect(raw.PG_USER).toBeUndefined();
    expect(raw.PG_PASSWORD).toBeUndefined();
    expect(raw.DEBEZIUM_PG_USER).toBe('debezium');
    expect(PG_REPLICATION_ROLES).toContain('debezium');
    expect(requiredVarOf(raw.DEBEZIUM_PG_PASSWORD)).toBe(requiredVarOf(rawEnvOf(svcOf('postgres')).QTSHOP_PG_PASSWORD_DEBEZIUM));
    const pgSecrets = Object.values(raw)
      .flatMap(requiredVarsIn)
      .filter((v) => v.startsWith('PG_'));
    expect(pgSecrets).toEqual(['PG_DEBEZIUM_PASSWORD']);
  });

  it('lets the connectors read only the variables the connector files use through ${env:...}', () => {
    // EnvVarConfigProvider's allowlist.pattern: a Java regex that must match the whole name.
    const allow = new RegExp(`^(?:${env.CONNECT_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN})$`);
    const used = new Set(connectorFiles().flatMap((f) => [...read(f).matchAll(/\$\{env:([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(0);
    for (const v of used) expect({ v, set: v in env, allowed: allow.test(v) }).toEqual({ v, set: true, allowed: true });
    expect(
      Object.keys(env)
        .filter((k) => allow.test(k))
        .sort(),
    ).toEqual([...used].sort());
  });
});

// ---------------------------------------------------------------- PostgreSQL and MongoDB

describe('compose service postgres: a superuser secret, and the shop’s login roles', () => {
  const pg = svcOf('postgres');
  const raw = rawEnvOf(pg);
  const sql = read(PG_ROLES_FILE);
  const roles = Object.fromEntries([...sql.matchAll(/^ALTER ROLE (\w+) WITH (.*) PASSWORD :'password';$/gm)].map((m) => [m[1]!, m[2]!.split(' ')]));
  const passwordVars = [...sql.matchAll(/^\\getenv password (\w+)$/gm)].map((m) => m[1]!);

  it('requires the superuser’s password instead of postgres/postgres', () => {
    expect(raw.POSTGRES_USER).toBe(PG_SUPERUSER);
    expect(requiredVarOf(raw.POSTGRES_PASSWORD)).toBe('PG_SUPERUSER_PASSWORD');
  });

  it('creates the login roles after the databases on first start, before the migrations (which grant them their rights)', () => {
    const inits = mountsOf(pg).filter((m) => m.target.startsWith('/docker-entrypoint-initdb.d/'));
    expect(inits.map((m) => [m.target.split('/').pop(), m.source, m.readOnly])).toEqual([
      ['10-create-databases.sql', 'docker/postgres/create-databases.sql', true],
      ['20-create-roles.sql', 'docker/postgres/create-roles.sql', true],
    ]);
    expect(dependsOn(svcOf('migrate')).postgres).toBe('service_healthy');
  });

  it('gives every role of the shop LOGIN and a password from a secret of its own, REPLICATION to the replication roles only', () => {
    expect(Object.keys(roles).sort()).toEqual([...PG_ROLES].sort());
    for (const [role, attributes] of Object.entries(roles)) {
      const replication = (PG_REPLICATION_ROLES as readonly string[]).includes(role);
      expect({ role, attributes }).toEqual({
        role,
        attributes: ['LOGIN', 'NOSUPERUSER', 'NOCREATEDB', 'NOCREATEROLE', replication ? 'REPLICATION' : 'NOREPLICATION', 'NOBYPASSRLS'],
      });
      expect(requiredVarOf(raw[`QTSHOP_PG_PASSWORD_${upper(role)}`])).toBe(`PG_${upper(role)}_PASSWORD`);
    }
    // Each role's password is read right before its statements, and an unset one stops the initialisation.
    expect(passwordVars).toEqual(Object.keys(roles).map((r) => `QTSHOP_PG_PASSWORD_${upper(r)}`));
    for (const v of passwordVars) expect(sql).toContain(`RAISE EXCEPTION '${v} is not set'`);
    expect(sql.match(/^\\unset password$/gm)?.length).toBe(passwordVars.length + 1);
    expect(sql).toMatch(/^SET pg_stat_statements\.track_utility = off;$/m);
    // As the local stack: nobody but the superuser works in the `postgres` database.
    expect(sql).toMatch(/^REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;$/m);
  });

  it('is generated from the roles it is given, REPLICATION for the replication roles only, and refuses a name SQL would need quoted', () => {
    const generated = createRolesSql(['shop_a', 'streamer'], ['streamer']);
    expect([...generated.matchAll(/^ALTER ROLE (\w+) WITH .* (N?O?REPLICATION) .*$/gm)].map((m) => [m[1], m[2]])).toEqual([
      ['shop_a', 'NOREPLICATION'],
      ['streamer', 'REPLICATION'],
    ]);
    expect([...generated.matchAll(/^\\getenv password (\w+)$/gm)].map((m) => m[1])).toEqual(['QTSHOP_PG_PASSWORD_SHOP_A', 'QTSHOP_PG_PASSWORD_STREAMER']);
    expect(generated).toContain("SELECT 'CREATE ROLE streamer' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streamer') \\gexec");
    expect(generated.split('\n')[0]).toBe(
      '-- GENERATED by `npm run -s compose-init -- --write` from PG_ROLES and PG_REPLICATION_ROLES in services/shared/src/infra/pg-roles.ts: do not edit.',
    );
    for (const bad of ['order-command', 'Catalog', "x'; DROP ROLE postgres; --"]) expect(() => createRolesSql([bad], [])).toThrow(/PostgreSQL role/);
  });
});

describe('compose service mongo: authentication, the basket its only client', () => {
  const mongo = rawEnvOf(svcOf('mongo'));
  const basket = rawEnvOf(svcOf('basket'));

  it('creates the root user from a required secret, and the basket logs in as it (authSource=admin)', () => {
    expect(requiredVarOf(mongo.MONGO_INITDB_ROOT_PASSWORD)).toBe('MONGO_ROOT_PASSWORD');
    const user = String(mongo.MONGO_INITDB_ROOT_USERNAME);
    expect(user).toMatch(/^\$\{MONGO_ROOT_USERNAME:-\w+\}$/);
    expect(String(basket.MONGO_URL)).toBe(`mongodb://${user}:${String(mongo.MONGO_INITDB_ROOT_PASSWORD)}@mongo:27017/?authSource=admin`);
    const url = new URL(envOf(svcOf('basket')).MONGO_URL!);
    expect({ user: url.username, password: url.password, authSource: url.searchParams.get('authSource') }).toEqual({
      user: envOf(svcOf('mongo')).MONGO_INITDB_ROOT_USERNAME,
      password: envOf(svcOf('mongo')).MONGO_INITDB_ROOT_PASSWORD,
      authSource: 'admin',
    });
  });
});

// ---------------------------------------------------------------- ports

describe('compose: published ports', () => {
  const BIND = '${QTSHOP_BIND_HOST:-127.0.0.1}';
  const infra = (all: Record<string, ComposeService>) => Object.entries(all).filter(([name]) => !(SHOP_SERVICES as readonly string[]).includes(name));

  it.each([
    ['docker-compose.yml', services],
    ['docker-compose.cluster.yml', cluster.services],
    ['docker-compose.ha.yml', ha.services],
  ] as const)('of the infrastructure and the monitoring in %s are on QTSHOP_BIND_HOST, this machine by default', (_, all) => {
    const published = infra(all).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => ({ name, on: publishedOn(p) })));
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p).toEqual({ name: p.name, on: BIND });
  });

  it('of the services stay on every interface: they are the shop', () => {
    for (const { name, svc } of SHOP) for (const p of svc.ports ?? []) expect({ name, on: publishedOn(p) }).toEqual({ name, on: undefined });
  });
});

// ---------------------------------------------------------------- docker/new-secrets.sh

describe('docker/new-secrets.sh', () => {
  const output = () => execFileSync('sh', ['docker/new-secrets.sh'], { cwd: root, encoding: 'utf8' });
  /** The secrets it writes: .env.example's placeholders, each replaced (the other lines as they are). */
  const run = () => {
    const placeholders = Object.entries(envExample().set).filter(([, v]) => v === SECRET_PLACEHOLDER);
    const written = envExample(output()).set;
    return Object.fromEntries(placeholders.map(([k]) => [k, written[k] ?? '']));
  };

  it('writes .env.example with a value in place of each placeholder, and nothing else changed', () => {
    const example = read('.env.example').split('\n');
    const written = output().split('\n');
    expect(written.length).toBe(example.length);
    const changed = written.flatMap((line, i) => (line === example[i] ? [] : [`${example[i]} -> ${line.replace(/=.*/, '=…')}`]));
    expect(changed.length).toBe(Object.keys({ ...REQUIRED, ...HA_REQUIRED }).length);
    for (const c of changed) expect(c).toMatch(new RegExp(`^([A-Z0-9_]+)=${SECRET_PLACEHOLDER} -> \\1=…$`));
  });

  it('writes a new random value for exactly the secrets the compose files require', () => {
    const [a, b] = [run(), run()];
    const wanted = new Set([...allStrings(services), ...allStrings(cluster), ...allStrings(ha)].flatMap(requiredVarsIn));
    expect(Object.keys(a).sort()).toEqual([...wanted].sort());
    expect(Object.keys(a).sort()).toEqual(Object.keys({ ...REQUIRED, ...HA_REQUIRED }).sort());
    for (const [k, v] of Object.entries(a)) expect({ k, v: /^[0-9a-f]{64}$/.test(v), again: v === b[k] }).toEqual({ k, v: true, again: false });
    expect(new Set(Object.values(a)).size).toBe(Object.keys(a).length);
  });

  it('writes secrets every service accepts under NODE_ENV=production', () => {
    const secrets = run();
    for (const { name, svc } of SHOP) expect(() => loadConfig(SERVICE_SETTINGS[name], { ...IMAGE_ENV, ...envOf(svc, secrets) })).not.toThrow();
  });
});
