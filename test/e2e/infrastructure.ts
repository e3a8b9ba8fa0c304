// Which infrastructure the end-to-end suite runs on, chosen by QTSHOP_STACK (the one place that knows):
//   local       the local stack (npm run stack -- up), the default and what CI uses;
//   containers  the infrastructure services of docker-compose.yml (PostgreSQL, Kafka and its one-shot
//               kafka-init, Debezium Connect, MongoDB), started with testcontainers' compose support: the
//               file users run, not a copy of it. Needs a Docker engine with compose v2 on this machine;
//               none runs on our CI machines, and this mode has not been run yet (docs/testing.md);
//   external    infrastructure you run, at the addresses in PG_HOST, PG_PORT, KAFKA_BROKERS, CONNECT_URL, MONGO_URL.
// It returns the environment the shop's services need; the tests do not know which one runs.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { addressEnv, devPassword, loadInfra, PG_SUPERUSER, pgDevPassword } from '@qtshop/shared/infra';

export interface Infrastructure {
  kind: 'local' | 'containers' | 'external';
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, '../..');

function run(args: string[]): Promise<void> {
  return new Promise((ok, fail) =>
    spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: 'inherit' }).on('close', (code) =>
      code === 0 ? ok() : fail(new Error(`${args.join(' ')} exited ${code}`)),
    ),
  );
}

async function local(): Promise<Infrastructure> {
  await run([resolve(root, 'stack/cli.ts'), 'up']);
  return { kind: 'local', env: { QTSHOP_STACK: 'local' }, stop: async () => undefined };
}

function external(): Infrastructure {
  for (const key of ['PG_HOST', 'KAFKA_BROKERS', 'CONNECT_URL', 'MONGO_URL']) {
    if (!process.env[key]) throw new Error(`QTSHOP_STACK=external needs ${key} (see docs/testing.md, Tests)`);
  }
  return { kind: 'external', env: { QTSHOP_STACK: 'external' }, stop: async () => undefined };
}

// ---------------------------------------------------------------- containers: docker-compose.yml itself

/**
 * The services of docker-compose.yml this mode starts: the infrastructure, and nothing that npm start does
 * on this machine (QTSHOP_STACK=containers skips only the local stack): it applies the migrations and
 * registers the connectors itself (the compose jobs migrate and register-connectors) and runs the services
 * and the relay. The monitoring (profile `monitoring`, and jaeger) is left out: nothing of the shop waits
 * for it.
 */
export const COMPOSE_INFRASTRUCTURE = ['postgres', 'kafka', 'kafka-init', 'connect', 'mongo'] as const;
/** Those that are one-shot jobs: each must have exited 0 (compose starts connect only after kafka-init did). */
export const COMPOSE_ONE_SHOT: readonly string[] = ['kafka-init'];
/** The others run on, each until its compose healthcheck passes. */
export const COMPOSE_HEALTHY = COMPOSE_INFRASTRUCTURE.filter((s) => !COMPOSE_ONE_SHOT.includes(s));

/** The host ports compose publishes the infrastructure on: the variables docker-compose.yml reads for them. */
export interface ComposePorts {
  PG_PORT: number;
  KAFKA_PORT: number;
  CONNECT_PORT: number;
  MONGO_PORT: number;
}

/** The placeholder of every secret in .env.example, which docker/new-secrets.sh replaces. */
const SECRET_PLACEHOLDER = 'change-me';

/**
 * The password this mode gives the principal a compose secret belongs to: its development password, for
 * every PostgreSQL role (`PG_<ROLE>_PASSWORD`, PG_SUPERUSER_PASSWORD the superuser's), Kafka principal
 * (`KAFKA_<PRINCIPAL>_PASSWORD`, `_` as `-`, the brokers' own `broker` included) and Kafka Connect REST user
 * (`CONNECT_<USER>_PASSWORD`); undefined for the other secrets.
 *
 * Why: npm start gives every service and relay it starts its own identity by withholding the identity
 * settings (withoutIdentity: KAFKA_USERNAME, KAFKA_PASSWORD, PG_USER, PG_PASSWORD, CONNECT_*), so each
 * logs in as its default principal with that principal's development password, as on the local stack;
 * NODE_ENV is not production here, so they accept it. Giving every principal of the compose file its
 * development password makes these containers the local stack's credentials on the compose file's
 * infrastructure: whatever principal a process on this machine uses, it presents the password the
 * containers expect, and no setting of the launcher changes.
 */
export function devPasswordOfSecret(name: string): string | undefined {
  const m = /^(PG|KAFKA|CONNECT)_([A-Z0-9_]+)_PASSWORD$/.exec(name);
  if (!m) return undefined;
  const [system, who] = [m[1]!, m[2]!];
  if (system === 'PG') return pgDevPassword(who === 'SUPERUSER' ? PG_SUPERUSER : who.toLowerCase());
  return devPassword(system === 'KAFKA' ? who.toLowerCase().replace(/_/g, '-') : who.toLowerCase());
}

/** Values that go unquoted into a compose env file and a shell alike: passwords (letters, digits and . _ ~ -), ports, URLs. */
const PLAIN_VALUE = /^[A-Za-z0-9._~:/@,-]*$/;

/**
 * Every variable compose reads from docker-compose.yml, as this mode sets it: .env.example read as
 * docker/new-secrets.sh reads it, each secret (`NAME=change-me`) replaced by its principal's development
 * password (devPasswordOfSecret) or, for the others (MONGO_ROOT_PASSWORD, ADMIN_TOKEN, AUTH_JWT_SECRET,
 * GRAFANA_ADMIN_PASSWORD), by 64 random hex digits as the script writes them; every optional variable at
 * the default .env.example documents (`# NAME=default`), so that neither the caller's shell nor a .env of
 * the repository changes what compose runs; no profile (the monitoring is left out); and `ports`.
 */
export function composeVariables(ports: ComposePorts, example = readFileSync(resolve(root, '.env.example'), 'utf8')): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of example.split('\n')) {
    const m = /^(# )?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const [commented, name, value] = [m[1], m[2]!, m[3]!];
    vars[name] = !commented && value === SECRET_PLACEHOLDER ? (devPasswordOfSecret(name) ?? randomBytes(32).toString('hex')) : value;
  }
  Object.assign(vars, { COMPOSE_PROFILES: '' }, Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])));
  const odd = Object.entries(vars).filter(([, v]) => !PLAIN_VALUE.test(v));
  if (odd.length) throw new Error(`.env.example: values this mode cannot pass on unquoted: ${odd.map(([k]) => k).join(', ')}`);
  return vars;
}

/**
 * The environment of the shop and the tools on this machine for the containers `vars` configures: what
 * docker/tools.env makes of them (the shell's `set -a; . ./.env; . docker/tools.env`, run here as is: the
 * operator's PostgreSQL, Kafka and Connect credentials, MONGO_URL with MongoDB's root user), the ports, and
 * the addresses they give, spelled out (as QTSHOP_STACK=containers reads them, and so that the caller's
 * KAFKA_BROKERS, CONNECT_URL or STACK_BROKERS cannot point elsewhere). The services npm start runs keep only
 * the addresses (they log in as themselves, see devPasswordOfSecret).
 */
export function containersHostEnv(vars: Record<string, string>): Record<string, string> {
  const out = execFileSync('sh', ['-c', 'set -a; . docker/tools.env; set +a; env -0'], {
    cwd: root,
    env: { PATH: process.env.PATH, ...vars },
    encoding: 'utf8',
  });
  const shell = new Map(
    out
      .split('\0')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const names = [...readFileSync(resolve(root, 'docker/tools.env'), 'utf8').matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
  const tools = Object.fromEntries(names.map((n) => [n, shell.get(n) ?? '']));
  const ports = Object.fromEntries((['PG_PORT', 'KAFKA_PORT', 'CONNECT_PORT', 'MONGO_PORT'] as const).map((k) => [k, vars[k]!]));
  const env = { ...ports, ...tools, QTSHOP_STACK: 'containers' };
  // The brokers' HOST listener speaks SASL/SCRAM only.
  return { ...env, KAFKA_SASL_MECHANISM: 'scram-sha-256', ...addressEnv(loadInfra(env)) };
}

/** Distinct free TCP ports of this machine, for compose to publish on (not the usual ones a local stack may hold). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((ok, fail) => {
          const server = createServer();
          server.once('error', fail);
          server.listen(0, '127.0.0.1', () => ok(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** How long each container may take to pass its healthcheck once compose has started it (Connect: 30 s + 18 × 10 s). */
const CONTAINERS_STARTUP_TIMEOUT_MS = 300_000;

async function containers(): Promise<Infrastructure> {
  if (process.env.NODE_ENV === 'production')
    throw new Error('QTSHOP_STACK=containers: the services npm start runs here log in with their development passwords, which NODE_ENV=production refuses');
  const { DockerComposeEnvironment, Wait, getContainerRuntimeClient } = await import('testcontainers');
  // Throws when no Docker engine answers. Compose publishes the ports on 127.0.0.1 of the engine's machine
  // and Kafka advertises localhost: the engine must run on this one (Docker Desktop's forwarding included).
  const client = await getContainerRuntimeClient();
  const engineHost = client.info.containerRuntime.host;
  if (!['localhost', '127.0.0.1', '::1'].includes(engineHost))
    throw new Error(`QTSHOP_STACK=containers needs the Docker engine on this machine; testcontainers reaches one at ${engineHost}`);
  const [PG_PORT, KAFKA_PORT, CONNECT_PORT, MONGO_PORT] = (await freePorts(4)) as [number, number, number, number];
  const vars = composeVariables({ PG_PORT, KAFKA_PORT, CONNECT_PORT, MONGO_PORT });
  const env = containersHostEnv(vars);
  // A project of its own (its containers, network and volumes, all removed by stop()), beside any `qtshop`.
  const project = `qtshop-e2e-${randomBytes(4).toString('hex')}`;
  // The variables as an env file, so that compose reads no .env of the repository, and in compose's
  // environment too, where they win over the caller's shell (compose prefers the shell to the file).
  const dir = mkdtempSync(join(tmpdir(), 'qtshop-compose-'));
  const envFile = join(dir, 'compose.env');
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  let compose = new DockerComposeEnvironment(root, 'docker-compose.yml')
    .withProjectName(project)
    .withEnvironmentFile(envFile)
    .withEnvironment(vars)
    .withStartupTimeout(CONTAINERS_STARTUP_TIMEOUT_MS);
  // testcontainers names a compose container `<service>-<n>`.
  for (const service of COMPOSE_HEALTHY) compose = compose.withWaitStrategy(`${service}-1`, Wait.forHealthCheck());
  let started: StartedDockerComposeEnvironment;
  try {
    // `docker compose up -d <services>`: compose starts each once its dependencies are healthy or, for
    // kafka-init, have completed (depends_on); testcontainers then waits for each running container's
    // healthcheck (and removes the project if one fails).
    started = await compose.up([...COMPOSE_INFRASTRUCTURE]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`QTSHOP_STACK=containers: docker compose (project ${project}) did not bring the infrastructure up: ${(err as Error).message}`);
  }
  const stop = async () => {
    try {
      await started.down(); // and its volumes
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    // Every long-running service is running (getContainer throws for one that is not) and healthy (above);
    // every one-shot job has exited 0.
    for (const service of COMPOSE_HEALTHY) started.getContainer(`${service}-1`);
    for (const job of COMPOSE_ONE_SHOT) {
      const [info] = await client.container.dockerode.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${job}`] },
      });
      const state = info && (await client.container.inspect(client.container.getById(info.Id))).State;
      if (!state || state.Running || state.ExitCode !== 0)
        throw new Error(`${job} did not complete (${state ? `status ${state.Status}, exit ${state.ExitCode}` : 'no container'})`);
    }
  } catch (err) {
    await stop();
    throw new Error(`QTSHOP_STACK=containers: ${(err as Error).message}`);
  }
  return { kind: 'containers', env, stop };
}

export async function provideInfrastructure(kind = process.env.QTSHOP_STACK ?? 'local'): Promise<Infrastructure> {
  switch (kind) {
    case 'local':
      return local();
    case 'external':
      return external();
    case 'containers':
      return containers();
    default:
      throw new Error(`QTSHOP_STACK must be local, containers or external, not "${kind}"`);
  }
}
