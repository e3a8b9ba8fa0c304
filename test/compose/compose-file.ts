// docker-compose.yml read as compose reads it, for the static compose tests (no Docker engine): its
// services, their environment after interpolation with the file's defaults and the secrets a user must set,
// their ports, dependencies and commands; and its override files, as written and merged into it.
import { readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { parse, type CollectionTag } from 'yaml';
import { BUILD_ENTRIES, type BuildEntry } from '../../scripts/build';

export const root = resolve(import.meta.dirname, '../..');
export const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

export interface ComposeService {
  image?: string;
  profiles?: string[];
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
  env_file?: string | Array<string | { path: string; required?: boolean }>;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  hostname?: string;
  environment?: Record<string, unknown> | string[];
  ports?: unknown[];
  volumes?: unknown[];
  healthcheck?: { test?: string | string[] };
  depends_on?: string[] | Record<string, { condition?: string }>;
  init?: boolean;
  restart?: string;
  stop_grace_period?: string;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const compose = parse(read('docker-compose.yml')) as ComposeFile;
export const services = compose.services;

// Compose's merge tags in an override file: the value is kept, the tag says it replaces the base file's.
const mergeTag = (name: string): CollectionTag => ({ tag: name, collection: 'seq', resolve: (v) => v as never, identify: () => false });
/** docker-compose.cluster.yml, the override file of the cluster profile, as written (not merged). */
export const cluster = parse(read('docker-compose.cluster.yml'), { merge: true, customTags: [mergeTag('!override'), mergeTag('!reset')] }) as ComposeFile;

/**
 * A service as compose runs it with `-f docker-compose.yml -f docker-compose.cluster.yml`, as far as these
 * tests read it: the base file's service, its environment merged key by key with the override's, and the
 * override's other keys replacing the base's; a service only the override has (written out in full, no
 * `extends`) as the override writes it.
 */
export function clusterService(name: string): ComposeService {
  const over = cluster.services[name] ?? {};
  const from = services[name] ?? {};
  return { ...from, ...over, environment: { ...rawEnvOf(from), ...rawEnvOf(over) } };
}

/** docker-compose.ha.yml, the override file of the PostgreSQL standby and the primary's address, as written (not merged). */
export const haText = read('docker-compose.ha.yml');
export const ha = parse(haText, { merge: true, customTags: [mergeTag('!override'), mergeTag('!reset')] }) as ComposeFile;

/** The keys an override file gives service `name` with `!reset` or `!override`: compose replaces the base file's list with them. */
export function replacedKeys(text: string, name: string): string[] {
  const body = text.slice(text.indexOf('\nservices:\n'));
  const block = new RegExp(`\\n  ${name}:\\n((?:(?: {4}.*)?\\n)*)`).exec(body)?.[1] ?? '';
  return [...block.matchAll(/^ {4}([a-z_]+): !(?:reset|override)\b/gm)].map((m) => m[1]!);
}

const dependsOnMap = (svc: ComposeService): Record<string, { condition?: string }> => {
  const deps = svc.depends_on ?? {};
  return Array.isArray(deps) ? Object.fromEntries(deps.map((d) => [d, {}])) : deps;
};

/**
 * A service as compose merges an override file into the base file: environment and depends_on key by key,
 * ports appended, volumes by container path, a list the override tags `!reset`/`!override` replaced, and the
 * override's other keys replacing the base's. A service only the override has, as the override writes it.
 */
export function mergedService(base: ComposeService | undefined, over: ComposeService | undefined, replaced: string[] = []): ComposeService {
  const [b, o] = [base ?? {}, over ?? {}];
  const volumes = new Map<string, unknown>();
  for (const v of [...(b.volumes ?? []), ...(o.volumes ?? [])]) volumes.set(String(v).split(':')[1] ?? String(v), v);
  return {
    ...b,
    ...o,
    environment: { ...rawEnvOf(b), ...rawEnvOf(o) },
    depends_on: { ...dependsOnMap(b), ...dependsOnMap(o) },
    ports: replaced.includes('ports') ? (o.ports ?? []) : [...(b.ports ?? []), ...(o.ports ?? [])],
    volumes: replaced.includes('volumes') ? (o.volumes ?? []) : [...volumes.values()],
  };
}

/** A service as compose runs it with `-f docker-compose.yml -f docker-compose.ha.yml`. */
export const haService = (name: string): ComposeService => mergedService(services[name], ha.services[name], replacedKeys(haText, name));
/** Every service of `-f docker-compose.yml -f docker-compose.ha.yml`, merged. */
export const haProject = (): Record<string, ComposeService> => Object.fromEntries(Object.keys({ ...services, ...ha.services }).map((n) => [n, haService(n)]));

/** The compose files and what each holds, as written (the override files not merged). */
export const COMPOSE_FILES: Array<[string, ComposeFile]> = [
  ['docker-compose.yml', compose],
  ['docker-compose.cluster.yml', cluster],
  ['docker-compose.ha.yml', ha],
];

/**
 * .env.example as compose reads it: the variables it sets (`NAME=value`), and the ones it documents with
 * their default in a comment (`# NAME=default`).
 */
export function envExample(text: string = read('.env.example')): { set: Record<string, string>; documented: Record<string, string> } {
  const set: Record<string, string> = {};
  const documented: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(# )?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) (m[1] ? documented : set)[m[2]!] = m[3]!;
  }
  return { set, documented };
}
/** The value .env.example gives every secret: `sh docker/new-secrets.sh > .env` replaces each. */
export const SECRET_PLACEHOLDER = 'change-me';

/** Every `${VAR...}` reference in a value: the variable, and how compose treats it when unset. */
export function varRefsIn(value: string): Array<{ name: string; kind: 'plain' | 'default' | 'required'; fallback?: string }> {
  return [...value.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}/g)].map((m) =>
    m[2] !== undefined
      ? { name: m[1]!, kind: 'default', fallback: m[3] }
      : m[4] !== undefined
        ? { name: m[1]!, kind: 'required', fallback: m[5] }
        : { name: m[1]!, kind: 'plain' },
  );
}

export const commandOf = (svc: ComposeService): string => (Array.isArray(svc.command) ? svc.command.join(' ') : (svc.command ?? ''));
export const healthcheckOf = (svc: ComposeService): string =>
  Array.isArray(svc.healthcheck?.test) ? svc.healthcheck.test.join(' ') : (svc.healthcheck?.test ?? '');

export function rawEnvOf(svc: ComposeService): Record<string, unknown> {
  const env = svc.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : null]));
}

/**
 * Secrets compose requires (`${VAR:?message}`): `docker compose up` refuses to start until the user sets
 * them, so no development default reaches a production image. The values are what a user would set.
 */
export const REQUIRED: Record<string, string> = {
  ADMIN_TOKEN: 'a-secret-of-the-operator-32-chars-or-more',
  AUTH_JWT_SECRET: 'a-jwt-secret-of-the-operator-32-bytes-or-more',
  GRAFANA_ADMIN_PASSWORD: 'a-password-of-the-operator',
  // One per principal (docker/new-secrets.sh writes them all): PostgreSQL's superuser and login roles, the
  // Kafka principals, Kafka Connect's REST users, MongoDB's root user.
  ...Object.fromEntries(
    [
      'PG_SUPERUSER_PASSWORD',
      'PG_CATALOG_PASSWORD',
      'PG_INVENTORY_PASSWORD',
      'PG_ORDER_COMMAND_PASSWORD',
      'PG_ORDER_QUERY_PASSWORD',
      'PG_RELAY_PASSWORD',
      'PG_DEBEZIUM_PASSWORD',
      'KAFKA_BROKER_PASSWORD',
      'KAFKA_OPERATOR_PASSWORD',
      'KAFKA_CONNECT_PASSWORD',
      'KAFKA_RELAY_PASSWORD',
      'KAFKA_CATALOG_PASSWORD',
      'KAFKA_INVENTORY_PASSWORD',
      'KAFKA_BASKET_PASSWORD',
      'KAFKA_ORDER_COMMAND_PASSWORD',
      'KAFKA_ORDER_QUERY_PASSWORD',
      'CONNECT_OPERATOR_PASSWORD',
      'CONNECT_RELAY_PASSWORD',
      'MONGO_ROOT_PASSWORD',
    ].map((name) => [name, `${name.toLowerCase().replace(/_/g, '-')}-of-the-operator`]),
  ),
};

/** Secrets only docker-compose.ha.yml requires (`${VAR:?message}`): the standby's replication role. */
export const HA_REQUIRED: Record<string, string> = { PG_REPLICATION_PASSWORD: 'pg-replication-password-of-the-operator' };

/** The image's own environment (Dockerfile ENV): NODE_ENV=production, under which dev defaults are refused. */
export const IMAGE_ENV = { NODE_ENV: /ENV NODE_ENV=(\S+)/.exec(read('Dockerfile'))?.[1] ?? '' };

/**
 * Compose interpolation with the defaults the file writes (`${VAR:-default}`) and the `required` values
 * (REQUIRED unless told), whatever the caller's shell says.
 */
export function withDefaults(value: string, required: Record<string, string> = REQUIRED): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*)|:\?[^}]*)?\}/g, (match, name: string, fallback: string | undefined) =>
    match === '$$' ? '$' : (fallback ?? required[name] ?? ''),
  );
}

/** The secret a value requires when it is exactly one (`${VAR:?message}`), else undefined. */
export const requiredVarOf = (value: unknown): string | undefined => /^\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}$/.exec(String(value ?? ''))?.[1];

/** Every secret a value requires (`${VAR:?message}` anywhere in it). */
export const requiredVarsIn = (value: unknown): string[] => [...String(value ?? '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}/g)].map((m) => m[1]!);

/** The environment a container gets when compose runs with only the required variables set (REQUIRED unless told). */
export const envOf = (svc: ComposeService, required: Record<string, string> = REQUIRED): Record<string, string> =>
  Object.fromEntries(Object.entries(rawEnvOf(svc)).map(([k, v]) => [k, withDefaults(String(v), required)]));

export function dependsOn(svc: ComposeService): Record<string, string | undefined> {
  const deps = svc.depends_on ?? {};
  return Array.isArray(deps)
    ? Object.fromEntries(deps.map((d) => [d, undefined]))
    : Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v?.condition]));
}

/** host port -> container port, after interpolating defaults ("${PG_PORT:-5432}:5432" -> 5432 -> 5432). */
export function publishedPorts(svc: ComposeService): Array<{ host: number; container: number }> {
  return (svc.ports ?? []).map((p) => {
    const parts = withDefaults(String(p)).split(':');
    return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
  });
}

/** The host address a port is published on, as written ("${QTSHOP_BIND_HOST:-127.0.0.1}:5432:5432"), or undefined: every interface. */
export const publishedOn = (port: unknown): string | undefined => {
  const parts = String(port).match(/\$\{[^}]*\}|[^:]+/g) ?? [];
  return parts.length === 3 ? parts[0] : undefined;
};

export function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => allStrings(v, out));
  return out;
}

export const mainPath = (name: string) => `services/${name}/src/main.ts`;
/** A container runs an entry point compiled by scripts/build.ts: `node dist/<entry>.js`. */
export const COMPILED = /^node dist\/([a-z0-9-]+)\.js\b/;
export const compiledOf = (svc: ComposeService): BuildEntry | undefined => COMPILED.exec(commandOf(svc))?.[1] as BuildEntry | undefined;
/** The folder under services/ whose main.ts a container runs (compiled), when it runs a shop service. */
export function serviceFolderOf(svc: ComposeService): string | undefined {
  const entry = compiledOf(svc);
  return entry && entry in BUILD_ENTRIES ? /^services\/([a-z0-9-]+)\/src\/main\.ts$/.exec(BUILD_ENTRIES[entry])?.[1] : undefined;
}

export interface Mount {
  /** A path in the repository (bind mount, `./…` in the file) or a named volume. */
  source: string;
  target: string;
  bind: boolean;
  readOnly: boolean;
}

/** The volumes a service mounts, short syntax (`./monitoring/x:/etc/x:ro`, `pg-data:/var/lib/postgresql/data`). */
export function mountsOf(svc: ComposeService): Mount[] {
  return (svc.volumes ?? []).map((v) => {
    const [source = '', target = '', mode = ''] = withDefaults(String(v)).split(':');
    const bind = source.startsWith('.') || source.startsWith('/');
    return { source: bind ? source.replace(/^\.\//, '') : source, target, bind, readOnly: mode.split(',').includes('ro') };
  });
}

/**
 * The repository path a container sees at `containerPath` through a bind mount (of the file itself or of
 * a folder above it), or undefined when no bind mount covers it.
 */
export function repoPathOf(svc: ComposeService, containerPath: string): string | undefined {
  const mount = mountsOf(svc)
    .filter((m) => m.bind && (containerPath === m.target || containerPath.startsWith(`${m.target.replace(/\/$/, '')}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
  return mount && posix.join(mount.source, posix.relative(mount.target, containerPath));
}
