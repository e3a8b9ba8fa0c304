// QTSHOP_STACK=containers checked statically (no Docker engine runs here, nor on CI; issue 31): the
// services of docker-compose.yml it starts, the variables it gives compose, and the environment it hands
// npm start and the tools, against what the compose file's containers expect.
import { addressEnv, IDENTITY_SETTINGS, kafkaSasl, loadInfra, pgPasswordOf, secretOf, withoutIdentity } from '@qtshop/shared/infra';
import { loadConfig } from '@qtshop/shared/platform';
import { SHOP_SERVICES } from '@qtshop/shared/tooling';
import { SERVICE_SETTINGS } from '../../scripts/service-settings';
import { allStrings, compose, dependsOn, healthcheckOf, rawEnvOf, services, varRefsIn } from '../compose/compose-file';
import { COMPOSE_HEALTHY, COMPOSE_INFRASTRUCTURE, COMPOSE_ONE_SHOT, composeVariables, containersHostEnv, type ComposePorts } from './infrastructure';

const ports: ComposePorts = { PG_PORT: 41001, KAFKA_PORT: 41002, CONNECT_PORT: 41003, MONGO_PORT: 41004 };
const vars = composeVariables(ports);
const env = containersHostEnv(vars);

/** Compose's interpolation of `value` with `vars` and nothing else: a variable it would take from the shell throws. */
function interpolate(value: string, with_: Record<string, string> = vars): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (match, name: string, colon: string, op: string, arg: string) => {
    if (match === '$$') return '$';
    const v = with_[name];
    const unset = v === undefined || (colon === ':' && v === '');
    if (op === '-') return unset ? arg : v!;
    if (unset) throw new Error(`compose would refuse, or read from the shell: ${name}`);
    return v!;
  });
}
const envOf = (service: string): Record<string, string> =>
  Object.fromEntries(Object.entries(rawEnvOf(services[service]!)).map(([k, v]) => [k, interpolate(String(v))]));

/**
 * The password the containers give each principal, read where they use it: PostgreSQL's initdb and
 * create-roles.sql (the postgres service), kafka-init's SCRAM credentials and the brokers' JAAS user,
 * Connect's REST users file (docker/connect/start.sh). Keys: `pg:<role>`, `kafka:<principal>`, `connect:<user>`.
 */
function containerCredentials(): Map<string, string> {
  const creds = new Map<string, string>();
  const pg = envOf('postgres');
  creds.set(`pg:${pg.POSTGRES_USER}`, pg.POSTGRES_PASSWORD!);
  for (const [k, v] of Object.entries(pg)) {
    const role = /^QTSHOP_PG_PASSWORD_([A-Z_]+)$/.exec(k)?.[1];
    if (role) creds.set(`pg:${role.toLowerCase()}`, v);
  }
  const init = envOf('kafka-init');
  creds.set('kafka:broker', init.QTSHOP_BROKER_PASSWORD!);
  for (const [k, v] of Object.entries(init)) {
    // The principal is the suffix in lower case, `_` as `-` (docker-compose.yml, kafka-init).
    const principal = /^QTSHOP_KAFKA_PASSWORD_([A-Z_]+)$/.exec(k)?.[1];
    if (principal) creds.set(`kafka:${principal.toLowerCase().replace(/_/g, '-')}`, v);
  }
  for (const [k, v] of Object.entries(envOf('connect'))) {
    const user = /^QTSHOP_CONNECT_([A-Z_]+)_PASSWORD$/.exec(k)?.[1];
    if (user) creds.set(`connect:${user.toLowerCase()}`, v);
  }
  return creds;
}

/** `127.0.0.1:5432:5432` -> { bind, host, container }. */
const published = (service: string) =>
  (services[service]!.ports ?? []).map((p) => {
    const [bind, host, container] = interpolate(String(p)).split(':');
    return { bind, host: Number(host), container: Number(container) };
  });

describe('QTSHOP_STACK=containers: the services of docker-compose.yml it starts', () => {
  it('are services of the file, from official images, under no profile', () => {
    for (const name of COMPOSE_INFRASTRUCTURE) {
      const svc = services[name];
      expect({ name, exists: svc !== undefined, build: svc?.build, profiles: svc?.profiles, image: typeof svc?.image }).toEqual({
        name,
        exists: true,
        build: undefined,
        profiles: undefined,
        image: 'string',
      });
    }
  });

  it('depend on nothing else, so that compose starts no other service', () => {
    const wanted = new Set<string>(COMPOSE_INFRASTRUCTURE);
    const outside = COMPOSE_INFRASTRUCTURE.flatMap((name) =>
      Object.keys(dependsOn(services[name]!))
        .filter((d) => !wanted.has(d))
        .map((d) => `${name} -> ${d}`),
    );
    expect(outside).toEqual([]);
  });

  it("leave out only what npm start does on this machine (the services image's jobs and services) and the monitoring", () => {
    const wanted = new Set<string>(COMPOSE_INFRASTRUCTURE);
    const left = Object.entries(services).filter(([name]) => !wanted.has(name));
    // jaeger: the trace backend, under no profile; nothing of the shop waits for it.
    const unexplained = left.filter(([name, svc]) => !svc.build && !svc.profiles?.length && name !== 'jaeger').map(([name]) => name);
    expect(unexplained).toEqual([]);
    // The jobs npm start does itself: its migrations and its relay mode set-up (connectors).
    expect(left.map(([name]) => name)).toEqual(expect.arrayContaining(['migrate', 'register-connectors']));
  });

  it('are waited for as what each is: a healthcheck for the long-running, completion for the one-shot jobs', () => {
    for (const name of COMPOSE_HEALTHY) expect({ name, healthcheck: healthcheckOf(services[name]!).length > 0 }).toEqual({ name, healthcheck: true });
    for (const name of COMPOSE_ONE_SHOT)
      expect({ name, restart: services[name]!.restart, healthcheck: healthcheckOf(services[name]!) }).toEqual({ name, restart: 'no', healthcheck: '' });
    // Every job the others wait for the completion of is one.
    const completed = COMPOSE_INFRASTRUCTURE.flatMap((name) =>
      Object.entries(dependsOn(services[name]!))
        .filter(([, condition]) => condition === 'service_completed_successfully')
        .map(([d]) => d),
    );
    expect(completed.length).toBeGreaterThan(0);
    for (const job of completed) expect(COMPOSE_ONE_SHOT).toContain(job);
  });
});

describe('QTSHOP_STACK=containers: the variables it gives compose', () => {
  it('set every secret docker-compose.yml requires (`${VAR:?}`), and every variable it reads: nothing comes from the caller', () => {
    const refs = allStrings(compose).flatMap((s) => varRefsIn(s));
    const required = [...new Set(refs.filter((r) => r.kind === 'required').map((r) => r.name))];
    expect(required.length).toBeGreaterThan(10);
    expect(required.filter((name) => !vars[name])).toEqual([]);
    expect([...new Set(refs.map((r) => r.name))].filter((name) => !(name in vars))).toEqual([]);
    // The whole file interpolates with them alone.
    expect(() => allStrings(compose).forEach((s) => interpolate(s))).not.toThrow();
  });

  it('publish the infrastructure on the ports given, on this machine only, with no profile', () => {
    expect(Object.fromEntries(Object.keys(ports).map((k) => [k, vars[k]]))).toEqual(Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])));
    expect(vars.COMPOSE_PROFILES).toBe('');
    for (const name of COMPOSE_HEALTHY) for (const p of published(name)) expect({ name, bind: p.bind }).toEqual({ name, bind: '127.0.0.1' });
  });

  it('give each principal a password of its own, and new random values to the secrets of no principal', () => {
    const creds = containerCredentials();
    expect(creds.size).toBeGreaterThan(15);
    // Within each system (a service's PostgreSQL role and its Kafka principal share a name, and so a development password).
    for (const system of ['pg', 'kafka', 'connect']) {
      const own = [...creds].filter(([k]) => k.startsWith(`${system}:`)).map(([, v]) => v);
      expect({ system, distinct: new Set(own).size }).toEqual({ system, distinct: own.length });
    }
    const again = composeVariables(ports);
    for (const name of ['MONGO_ROOT_PASSWORD', 'ADMIN_TOKEN', 'AUTH_JWT_SECRET', 'GRAFANA_ADMIN_PASSWORD']) {
      expect({ name, value: /^[0-9a-f]{64}$/.test(vars[name]!), fresh: again[name] !== vars[name] }).toEqual({ name, value: true, fresh: true });
    }
  });
});

describe('QTSHOP_STACK=containers: the environment of npm start and the tools', () => {
  const infra = loadInfra(env);

  it('names every setting the shop needs: the addresses and the identity settings', () => {
    const needed = ['QTSHOP_STACK', ...Object.keys(addressEnv(loadInfra({}))), ...IDENTITY_SETTINGS];
    expect(needed.filter((k) => !env[k])).toEqual([]);
    expect(env.QTSHOP_STACK).toBe('containers');
  });

  it('points at the ports compose publishes, and at the address Kafka advertises', () => {
    const hostPort = (service: string, container: number) => published(service).find((p) => p.container === container)!.host;
    expect({ host: infra.pg.host, port: infra.pg.port }).toEqual({ host: '127.0.0.1', port: hostPort('postgres', 5432) });
    expect(infra.connect.url).toBe(`http://127.0.0.1:${hostPort('connect', 8083)}`);
    expect(new URL(infra.mongo.url).port).toBe(String(hostPort('mongo', 27017)));
    // The HOST listener (container port 29092) is advertised as localhost:<the port published for it>.
    const kafkaHostPort = hostPort('kafka', 29092);
    expect(infra.kafka.brokers).toEqual([`127.0.0.1:${kafkaHostPort}`]);
    expect(envOf('kafka').KAFKA_ADVERTISED_LISTENERS).toContain(`HOST://localhost:${kafkaHostPort}`);
  });

  it("gives the tools and npm start's own work (migrations, connectors) the operator's credentials the containers hold", () => {
    const creds = containerCredentials();
    expect({ user: infra.pg.user, password: infra.pg.password }).toEqual({ user: 'postgres', password: creds.get('pg:postgres') });
    expect(infra.kafka.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'operator', password: creds.get('kafka:operator') });
    expect(infra.connect.auth).toEqual({ username: 'operator', password: creds.get('connect:operator') });
    const mongo = envOf('mongo');
    const url = new URL(infra.mongo.url);
    expect({ user: url.username, password: url.password }).toEqual({ user: mongo.MONGO_INITDB_ROOT_USERNAME, password: mongo.MONGO_INITDB_ROOT_PASSWORD });
  });

  // npm start (scripts/shop.ts) passes each service and relay it starts the environment without the
  // identity settings, plus the addresses: each logs in as its own default principal.
  it.each(SHOP_SERVICES.map((s) => [s]))('lets %s, as npm start runs it, log in as its own principals', (service) => {
    const creds = containerCredentials();
    const launched = { ...withoutIdentity(env), ...addressEnv(infra) };
    const c = loadConfig(SERVICE_SETTINGS[service], launched) as Record<string, string | undefined> & Parameters<typeof kafkaSasl>[0];
    const presented = [
      ['pg', c.PG_USER!, pgPasswordOf({ PG_USER: c.PG_USER!, PG_PASSWORD: c.PG_PASSWORD })],
      ['kafka', kafkaSasl(c, launched)!.username, kafkaSasl(c, launched)!.password],
      ['connect', c.CONNECT_USERNAME!, secretOf('CONNECT_PASSWORD', c.CONNECT_USERNAME!, c.CONNECT_PASSWORD, launched)],
    ] as const;
    for (const [system, user, password] of presented) {
      expect({ principal: `${system}:${user}`, password }).toEqual({ principal: `${system}:${user}`, password: creds.get(`${system}:${user}`) });
    }
  });
});
