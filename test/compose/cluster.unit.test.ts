// docker-compose.cluster.yml checked statically, like docker-compose.yml: three brokers in one
// KRaft quorum with replicated topics, two Kafka Connect workers in one group, and every service
// replicated and pointed at every broker and worker. No Docker engine runs here, so what compose does with
// the override is read from the file as compose merges it (maps merged key by key, `!override` replacing).
// No `extends` (Compose versions treat `extends` of a service with depends_on differently): the
// added brokers and worker are written out from YAML anchors, and checked here against the base file's.
import { parse, type ScalarTag, type CollectionTag } from 'yaml';
import { SHOP_SERVICES } from '@qtshop/shared/tooling';
import { rawEnvOf, services as base, read, withDefaults, type ComposeService } from './compose-file';

// Compose's merge tags: the value is kept, the tag says it replaces the base file's (checked below).
const tag = (name: string, collection: 'seq' | 'map'): CollectionTag => ({ tag: name, collection, resolve: (v) => v as never, identify: () => false });
const customTags: Array<CollectionTag | ScalarTag> = [tag('!override', 'seq'), tag('!reset', 'seq')];
const text = read('docker-compose.cluster.yml');
const cluster = parse(text, { merge: true, customTags }) as {
  services: Record<string, ComposeService & Record<string, unknown>>;
  volumes?: Record<string, unknown>;
};
const svc = cluster.services;

const envOf = (s: ComposeService | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries((s?.environment as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));
/** A service's environment after compose merges the override into the base file, key by key. */
const merged = (name: string) => ({ ...envOf(base[name]), ...envOf(svc[name]) });
/** A base-file service with the override's environment merged in, raw (not interpolated). */
const clusterMerged = (name: string): ComposeService => ({ environment: { ...rawEnvOf(base[name]!), ...rawEnvOf(svc[name] ?? {}) } });
const list = (v: string | undefined) => (v ?? '').split(',').filter(Boolean).sort();

const BROKERS = ['kafka', 'kafka-2', 'kafka-3'];
const WORKERS = ['connect', 'connect-2'];

describe('docker-compose.cluster.yml', () => {
  it('adds exactly the second and third broker and the second Connect worker, and overrides only services of the base file', () => {
    const added = Object.keys(svc).filter((n) => !(n in base));
    expect(added.sort()).toEqual(['connect-2', 'kafka-2', 'kafka-3']);
  });

  it('runs three brokers in one KRaft quorum: distinct node ids, one cluster id, every broker voting', () => {
    const envs = BROKERS.map(merged);
    expect(envs.map((e) => e.KAFKA_NODE_ID)).toEqual(['1', '2', '3']);
    expect(new Set(envs.map((e) => e.CLUSTER_ID)).size).toBe(1);
    for (const e of envs) {
      expect(e.KAFKA_PROCESS_ROLES).toBe('broker,controller');
      expect(list(e.KAFKA_CONTROLLER_QUORUM_VOTERS)).toEqual(BROKERS.map((b, i) => `${i + 1}@${b}:9093`).sort());
    }
    expect(BROKERS.map((b) => merged(b).KAFKA_ADVERTISED_LISTENERS!.split(',')[0])).toEqual(BROKERS.map((b) => `INTERNAL://${b}:9092`));
  });

  it('keeps three copies of every topic and needs two in sync for a write, the internal topics included', () => {
    for (const b of BROKERS) {
      const e = merged(b);
      expect(e).toMatchObject({
        KAFKA_DEFAULT_REPLICATION_FACTOR: '3',
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '3',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '2',
        KAFKA_NUM_PARTITIONS: merged('kafka').KAFKA_NUM_PARTITIONS,
      });
    }
    for (const w of WORKERS)
      expect(merged(w)).toMatchObject({
        CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR: '3',
        CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR: '3',
        CONNECT_STATUS_STORAGE_REPLICATION_FACTOR: '3',
      });
  });

  it('gives each added broker a data volume of its own and a host port of its own', () => {
    const volumes = BROKERS.map((b) => String(svc[b]!.volumes?.[0]).split(':')[0]);
    expect(new Set(volumes).size).toBe(3);
    for (const v of volumes) expect(cluster.volumes).toHaveProperty([v!]);
    const hostPorts = [base.kafka!, ...BROKERS.slice(1).map((b) => svc[b]!)].map((s) => withDefaults(String(s.ports?.[0])).split(':').at(-2));
    expect(new Set(hostPorts).size).toBe(3);
  });

  it('joins both Connect workers in one group on every broker, each advertising its own name', () => {
    const envs = WORKERS.map(merged);
    expect(new Set(envs.map((e) => e.GROUP_ID)).size).toBe(1);
    for (const k of ['CONFIG_STORAGE_TOPIC', 'OFFSET_STORAGE_TOPIC', 'STATUS_STORAGE_TOPIC']) expect(new Set(envs.map((e) => e[k])).size).toBe(1);
    for (const e of envs) expect(list(e.BOOTSTRAP_SERVERS)).toEqual(BROKERS.map((b) => `${b}:9092`).sort());
    expect(envOf(svc['connect-2']).ADVERTISED_HOST_NAME).toBe('connect-2');
    expect(envOf(base.connect).ADVERTISED_HOST_NAME).toBe('connect');
    expect(svc['connect-2']!.ports).toEqual(['${QTSHOP_BIND_HOST:-127.0.0.1}:${CONNECT_2_PORT:-8093}:8083']);
  });

  it('waits for every broker before a worker starts', () => {
    for (const w of WORKERS) {
      const deps = Object.keys({ ...(base[w]?.depends_on ?? {}), ...(svc[w]?.depends_on ?? {}) });
      expect(deps).toEqual(expect.arrayContaining(BROKERS));
    }
  });

  it.each([...SHOP_SERVICES])('runs several %s containers, each pointed at every broker and every Connect worker', (name) => {
    const s = svc[name]!;
    expect(Number(withDefaults(String((s.deploy as { replicas?: unknown }).replicas)))).toBeGreaterThanOrEqual(2);
    expect(list(merged(name).KAFKA_BROKERS)).toEqual(BROKERS.map((b) => `${b}:9092`).sort());
    expect(list(merged(name).CONNECT_URL)).toEqual(WORKERS.map((w) => `http://${w}:8083`).sort());
    // Replicas cannot share one host port: each publishes the container port on one Docker picks.
    const port = withDefaults(String(base[name]!.ports?.[0])).split(':')[1];
    expect(s.ports).toEqual([port]);
    expect(text).toMatch(new RegExp(`\\n  ${name}:\\n[\\s\\S]*?ports: !override\\n\\s+- ["']${port}["']`));
  });

  it('lets register-connectors reach either worker', () => {
    expect(list(merged('register-connectors').CONNECT_URL)).toEqual(WORKERS.map((w) => `http://${w}:8083`).sort());
  });
  it('uses no `extends` and states the minimum Compose version its `!override` tags need', () => {
    expect(
      Object.entries(svc)
        .filter(([, s]) => 'extends' in s)
        .map(([n]) => n),
    ).toEqual([]);
    expect(text).not.toMatch(/^\s+extends:/m);
    // !override came with Docker Compose 2.24.4.
    expect(text).toMatch(/!override/);
    expect(text).toMatch(/^# Needs Docker Compose v2\.24\.4 or later/m);
  });

  /** What a cluster member may set otherwise than the base file's service: its identity and the cluster's settings. */
  const withoutKeys = (env: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(env).filter(([k]) => !keys.includes(k)));
  const BROKER_OWN = ['KAFKA_NODE_ID', 'KAFKA_ADVERTISED_LISTENERS', 'BOOTSTRAP'];
  const WORKER_OWN = ['ADVERTISED_HOST_NAME'];

  it.each(['kafka-2', 'kafka-3'])('runs %s as the base file’s broker but for its identity and the cluster’s settings', (name) => {
    const clusterKeys = Object.keys(rawEnvOf(svc.kafka!));
    const added = svc[name]!;
    expect(withoutKeys(rawEnvOf(added), [...BROKER_OWN, ...clusterKeys])).toEqual(withoutKeys(rawEnvOf(base.kafka!), [...BROKER_OWN, ...clusterKeys]));
    expect(withoutKeys(rawEnvOf(added), BROKER_OWN)).toEqual(withoutKeys(rawEnvOf(clusterMerged('kafka')), BROKER_OWN));
    for (const key of ['image', 'healthcheck', 'restart'] as const) expect({ key, value: added[key] }).toEqual({ key, value: base.kafka![key] });
    expect(added.hostname).toBe(name);
    expect(added.volumes?.slice(1)).toEqual(base.kafka!.volumes?.slice(1));
  });

  it('runs connect-2 as the base file’s worker but for its advertised name and host port', () => {
    const added = svc['connect-2']!;
    expect(withoutKeys(rawEnvOf(added), WORKER_OWN)).toEqual(withoutKeys(rawEnvOf(clusterMerged('connect')), WORKER_OWN));
    for (const key of ['image', 'entrypoint', 'command', 'healthcheck', 'restart', 'volumes', 'networks'] as const) {
      expect({ key, value: added[key] }).toEqual({ key, value: base.connect![key] });
    }
    // It waits for what the base worker waits for, and for every broker.
    const deps = Object.keys(added.depends_on ?? {});
    expect(deps).toEqual(expect.arrayContaining([...Object.keys(base.connect!.depends_on ?? {}), ...BROKERS]));
  });

  it('keeps its Kafka data in volumes of its own and a cluster id of its own: never the single broker’s kafka-data', () => {
    const dataOf = (s: ComposeService | undefined) =>
      (s?.volumes ?? [])
        .map(String)
        .find((v) => v.endsWith(':/var/lib/kafka/data'))
        ?.split(':')[0];
    const single = dataOf(base.kafka);
    const volumes = BROKERS.map((b) => dataOf(svc[b]));
    expect(single).toBe('kafka-data');
    expect(new Set([single, ...volumes]).size).toBe(4);
    for (const v of volumes) expect(cluster.volumes).toHaveProperty([v!]);
    // The override replaces broker 1's volumes (a bind mount listed again, the data volume swapped).
    expect(text).toMatch(/\n  kafka:\n[\s\S]*?volumes: !override\n/);
    expect(merged('kafka').CLUSTER_ID).not.toBe(envOf(base.kafka).CLUSTER_ID);
  });
});
