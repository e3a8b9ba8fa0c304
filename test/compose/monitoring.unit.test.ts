// The monitoring of docker-compose.yml checked statically: the Kafka Connect JMX exporter,
// Prometheus and Jaeger, with the files their containers mount read from the tree as the containers would
// see them. Grafana and its dashboard: grafana.unit.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { portSettingOf, SHOP_SERVICES, type ShopService } from '@qtshop/shared/tooling';
import { RULES_FILE } from '../../scripts/test-rules';
import {
  cluster,
  COMPOSE_FILES,
  commandOf,
  compose,
  dependsOn,
  envOf,
  healthcheckOf,
  mountsOf,
  publishedPorts,
  rawEnvOf,
  read,
  repoPathOf,
  root,
  serviceFolderOf,
  services,
} from './compose-file';
import { javaAgentOf, jmxRuleNames, type JmxExporterConfig, type JmxRule } from './jmx-exporter';

const exists = (path: string | undefined) => path !== undefined && existsSync(resolve(root, path));

const MONITORING = ['prometheus', 'grafana', 'jaeger'];
/** What runs only with the profile `monitoring` (Jaeger always runs: the services export their spans to it). */
const MONITORING_PROFILE = ['connect-jmx-exporter', 'grafana', 'prometheus'];

/** The compose services that run a shop service (services/<name>/src/main.ts, compiled), with the folder they run. */
const shopServices = Object.entries(services).flatMap(([name, svc]) => {
  const folder = serviceFolderOf(svc);
  return folder ? [{ name, svc, folder: folder as ShopService }] : [];
});

describe('compose monitoring', () => {
  it('is something nothing else waits for, in either file: a monitoring container that is down costs metrics, not orders', () => {
    for (const [file, { services: all }] of COMPOSE_FILES) {
      for (const [name, svc] of Object.entries(all)) {
        const waitsFor = Object.keys(dependsOn(svc)).filter((d) => [...MONITORING, ...MONITORING_PROFILE].includes(d));
        expect({ file, name, waitsFor }).toEqual({ file, name, waitsFor: [] });
      }
    }
  });

  it('runs Prometheus, Grafana and the JMX exporter job only with the profile `monitoring`, and nothing else in a profile', () => {
    const profiled = Object.entries(services).filter(([, svc]) => svc.profiles !== undefined);
    expect(Object.fromEntries(profiled.map(([n, svc]) => [n, svc.profiles]))).toEqual(Object.fromEntries(MONITORING_PROFILE.map((n) => [n, ['monitoring']])));
    expect(Object.values(cluster.services).filter((svc) => svc.profiles !== undefined)).toEqual([]);
  });

  it.each(MONITORING)('%s is restarted when it dies and has a healthcheck', (name) => {
    expect(services[name]!.restart).toBe('unless-stopped');
    expect(healthcheckOf(services[name]!)).toMatch(/\S/);
  });
});

// ---------------------------------------------------------------- Kafka Connect JMX exporter

describe('compose: Kafka Connect JMX exporter', () => {
  const connect = services.connect!;
  const job = services['connect-jmx-exporter']!;
  const env = envOf(connect);
  const jobEnv = envOf(job);
  const agent = javaAgentOf(env.QTSHOP_JMX_AGENT);
  const startScript = repoPathOf(connect, String([connect.entrypoint ?? []].flat().find((w) => w.endsWith('.sh'))));

  it("loads the exporter as a Java agent (QTSHOP_JMX_AGENT, which its entry point adds to KAFKA_OPTS), not through the image's ENABLE_JMX_EXPORTER switch (it wants a jar the image does not ship)", () => {
    expect(agent).toEqual({ jar: expect.stringMatching(/jmx_prometheus_javaagent-[\d.]+\.jar$/), port: expect.any(Number), config: expect.any(String) });
    expect(env.ENABLE_JMX_EXPORTER).toBeUndefined();
    expect(javaAgentOf(env.KAFKA_OPTS)).toBeUndefined();
    expect(startScript).toBe('docker/connect/start.sh');
  });

  it('starts Connect with the agent when its jar is there and without it (no JMX metrics, but a worker) when it is not', () => {
    // The entry point's agent step, run with the jar path pointed at a temporary folder.
    const step = /^if \[ -n "\$\{QTSHOP_JMX_AGENT:-\}" \]; then\n[\s\S]*?^fi$/m.exec(read(startScript!))?.[0];
    expect(step).toBeDefined();
    const dir = mkdtempSync(resolve(tmpdir(), 'qtshop-jmx-'));
    try {
      const jar = `${dir}/${posix.basename(agent!.jar)}`;
      const optsWith = (present: boolean) => {
        if (present) writeFileSync(jar, '');
        else rmSync(jar, { force: true });
        return execFileSync('sh', ['-c', `${step}\nprintf %s "$KAFKA_OPTS"`], {
          env: { PATH: process.env.PATH, KAFKA_OPTS: env.KAFKA_OPTS, QTSHOP_JMX_AGENT: env.QTSHOP_JMX_AGENT!.replace(agent!.jar, jar) },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      };
      expect(optsWith(false)).toBe(env.KAFKA_OPTS);
      expect(javaAgentOf(optsWith(true))).toEqual({ ...agent, jar });
      expect(optsWith(true)).toContain(env.KAFKA_OPTS!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the agent in a volume the one-shot connect-jmx-exporter job fills, of the version the job resolves, before Connect starts', () => {
    const mount = mountsOf(connect).find((m) => posix.dirname(agent!.jar) === m.target);
    expect(mount).toMatchObject({ bind: false, readOnly: true });
    expect(compose.volumes).toHaveProperty([mount!.source]);
    expect(mountsOf(job)).toContainEqual({ source: mount!.source, target: jobEnv.JMX_EXPORTER_DIR, bind: false, readOnly: false });
    expect(posix.basename(agent!.jar)).toBe(`jmx_prometheus_javaagent-${jobEnv.JMX_EXPORTER_VERSION}.jar`);
    expect(jobEnv.JMX_EXPORTER_SHA256).toMatch(/^[0-9a-f]{64}$/);
    // Connect does not wait for it: Maven Central out of reach must not keep the shop from starting.
    expect(dependsOn(connect)['connect-jmx-exporter']).toBeUndefined();
    expect(job.restart).toBe('no');
  });

  it('resolves the agent with Maven and the dependency plugin of the local stack, and refuses a jar without the pinned SHA-256', () => {
    const script = repoPathOf(
      job,
      commandOf(job)
        .split(' ')
        .find((w) => w.endsWith('.sh')) ?? '',
    );
    expect({ script, exists: exists(script) }).toEqual({ script: 'docker/connect/fetch-jmx-exporter.sh', exists: true });
    const text = read(script!);
    const stackPluginVersion = /<dependency-plugin\.version>([^<]+)</.exec(read('stack/maven/pom.xml'))?.[1];
    expect(text).toContain(`maven-dependency-plugin:${stackPluginVersion}:copy`);
    expect(text).toContain('-Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION"');
    expect(text).toMatch(/\$JMX_EXPORTER_SHA256 {2}\$jar" \| sha256sum --check --status; then\n\s+echo .*\n\s+rm -f "\$jar"\n\s+exit 1/);
    expect(job.image).toMatch(/^maven:3\.\d+-eclipse-temurin-17$/);
  });

  it('reads its rules from the committed monitoring/connect/jmx-exporter.yml, each naming its metric', () => {
    const path = repoPathOf(connect, agent!.config);
    expect(path).toBe('monitoring/connect/jmx-exporter.yml');
    expect(mountsOf(connect).find((m) => m.target === agent!.config)).toMatchObject({ readOnly: true });
    const config = parse(read(path!)) as JmxExporterConfig;
    expect(config.rules.length).toBeGreaterThan(0);
    for (const rule of config.rules) {
      expect({ pattern: rule.pattern, named: jmxRuleNames(rule, config.lowercaseOutputName ?? false).length > 0 }).toEqual({
        pattern: rule.pattern,
        named: true,
      });
    }
    expect(config.rules.flatMap((r) => jmxRuleNames(r, true)).some((re) => re.test('kafka_connect_connector_status'))).toBe(true);
  });

  it('names the metrics its rules make as the exporter does', () => {
    const names = (rule: JmxRule) => jmxRuleNames(rule, true).map(String);
    expect(
      names({
        pattern: 'kafka.connect<type=x, connector=([^,>]+)><>(source-record-poll-total|source-record-write-total)',
        name: 'kafka_connect_$2',
        type: 'COUNTER',
      }),
    ).toEqual(['/^kafka_connect_source_record_poll_total$/', '/^kafka_connect_source_record_write_total$/']);
    expect(names({ pattern: 'a<b=(.+)><>Connected', name: 'debezium_$1_Up_total', type: 'GAUGE' })).toEqual(['/^debezium_[a-z0-9_]+_up$/']);
  });
});

// ---------------------------------------------------------------- Prometheus

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  scheme?: string;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
}
interface PrometheusConfig {
  rule_files?: string[];
  scrape_configs: ScrapeConfig[];
}

/** `--flag=value` of a command. */
const flagOf = (command: string, flag: string) => new RegExp(`(?:^|\\s)--${flag}=(\\S+)`).exec(command)?.[1];

describe('compose: Prometheus', () => {
  const prometheus = services.prometheus!;
  const configPath = flagOf(commandOf(prometheus), 'config.file');
  const configFile = configPath && repoPathOf(prometheus, configPath);
  const config = (exists(configFile) ? parse(read(configFile!)) : { scrape_configs: [] }) as PrometheusConfig;
  /**
   * The job that scrapes `name:port`: a static target, or a DNS lookup of type A of that name (Docker's DNS
   * answers a service name, or a network alias, with every container that has it).
   */
  const jobWithTarget = (target: string) =>
    config.scrape_configs.find(
      (j) =>
        (j.static_configs ?? []).some((c) => c.targets.includes(target)) ||
        (j.dns_sd_configs ?? []).some((d) => d.type === 'A' && d.names.some((n) => `${n}:${d.port}` === target)),
    );
  /** The network aliases of a service on the default network. */
  const aliasesOf = (svc: { networks?: unknown } | undefined): string[] =>
    ((svc?.networks as Record<string, { aliases?: string[] } | null> | undefined)?.default?.aliases ?? []).slice();

  /** Every compose service that runs services/<name>/src/main.ts serves /metrics on its HTTP port (createHttpApp). */
  const metricsEndpoints = shopServices.map(({ name, svc, folder }) => ({ name, target: `${name}:${envOf(svc)[portSettingOf(folder)]}` }));

  it('reads the committed monitoring/prometheus/prometheus.yml through a read-only mount', () => {
    expect(configFile).toBe('monitoring/prometheus/prometheus.yml');
    expect(mountsOf(prometheus).find((m) => configPath!.startsWith(m.target))).toMatchObject({ bind: true, readOnly: true });
  });

  it('finds every replica of a service (DNS, type A, on its service name) rather than a static target, which names one', () => {
    for (const { name } of metricsEndpoints) {
      const job = config.scrape_configs.find((j) => j.job_name === name);
      expect({ name, static: job?.static_configs, dns: job?.dns_sd_configs?.map((d) => ({ names: d.names, type: d.type })) }).toEqual({
        name,
        static: undefined,
        dns: [{ names: [name], type: 'A' }],
      });
    }
  });

  it("scrapes every service compose runs, at its HTTP port's /metrics, in a job named as the service", () => {
    expect(metricsEndpoints.map((e) => e.name)).toEqual(expect.arrayContaining([...SHOP_SERVICES]));
    for (const { name, target } of metricsEndpoints) {
      const job = jobWithTarget(target);
      expect({ target, job: job?.job_name, path: job?.metrics_path ?? '/metrics', scheme: job?.scheme ?? 'http' }).toEqual({
        target,
        job: name,
        path: '/metrics',
        scheme: 'http',
      });
    }
  });

  it('scrapes the JMX exporter of every Kafka Connect worker (both in docker-compose.cluster.yml) at the port its agent listens on', () => {
    const workers = { connect: services.connect, 'connect-2': cluster.services['connect-2'] };
    const aliases = Object.values(workers).map(aliasesOf);
    // One name every worker answers to, and one job that looks it up.
    const shared = aliases[0]!.filter((a) => aliases.every((list) => list.includes(a)));
    expect(shared.length).toBe(1);
    for (const [name, svc] of Object.entries(workers)) {
      const agent = javaAgentOf(envOf(svc!).QTSHOP_JMX_AGENT);
      expect({ name, job: jobWithTarget(`${shared[0]}:${agent?.port}`)?.job_name }).toEqual({ name, job: 'connect' });
    }
  });

  it('scrapes only containers compose runs, and labels no target `service` (the services label their own series so)', () => {
    const names = new Set([
      ...Object.keys(services),
      ...Object.keys(cluster.services),
      ...[services, cluster.services].flatMap((all) => Object.values(all).flatMap(aliasesOf)),
    ]);
    for (const job of config.scrape_configs) {
      for (const d of job.dns_sd_configs ?? [])
        for (const n of d.names) expect({ job: job.job_name, n, known: names.has(n) }).toEqual({ job: job.job_name, n, known: true });
      for (const c of job.static_configs ?? []) {
        for (const target of c.targets) {
          const host = target.split(':')[0]!;
          expect({ target, known: host === 'localhost' || host in services }).toEqual({ target, known: true });
        }
        expect(Object.keys(c.labels ?? {})).not.toContain('service');
      }
    }
  });

  it('loads the alert rules npm run test:rules tests (monitoring/prometheus/alerts.yml)', () => {
    const ruleFiles = (config.rule_files ?? []).map((f) => repoPathOf(prometheus, posix.resolve(posix.dirname(configPath!), f)));
    expect(ruleFiles).toContain(posix.relative(root, RULES_FILE));
    for (const f of ruleFiles) expect({ f, exists: exists(f) }).toEqual({ f, exists: true });
  });

  it('publishes its UI on PROMETHEUS_PORT (9090), keeps its data in a volume, is restarted and reports health from /-/ready', () => {
    expect(publishedPorts(prometheus)).toEqual([{ host: 9090, container: 9090 }]);
    const data = mountsOf(prometheus).find((m) => m.target === flagOf(commandOf(prometheus), 'storage.tsdb.path'));
    expect(data).toMatchObject({ bind: false });
    expect(compose.volumes).toHaveProperty([data!.source]);
    expect(prometheus.restart).toBe('unless-stopped');
    expect(healthcheckOf(prometheus)).toContain('http://127.0.0.1:9090/-/ready');
  });
});

// ---------------------------------------------------------------- Jaeger

describe('compose: Jaeger', () => {
  const jaeger = services.jaeger!;
  /** Jaeger v2's all-in-one configuration (built into the image) receives OTLP/gRPC on 4317 and OTLP/HTTP on 4318. */
  const OTLP_HTTP = 4318;
  const OTLP_GRPC = 4317;

  it('runs Jaeger v2, which receives OTLP, and publishes its UI (16686) and both OTLP ports on the host', () => {
    expect(jaeger.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(publishedPorts(jaeger)).toEqual([
      { host: 16686, container: 16686 },
      { host: OTLP_GRPC, container: OTLP_GRPC },
      { host: OTLP_HTTP, container: OTLP_HTTP },
    ]);
    expect(healthcheckOf(jaeger)).toContain('http://127.0.0.1:13133/status');
  });

  it.each(SHOP_SERVICES.map((s) => [s]))("%s exports its spans to Jaeger's OTLP/HTTP port by default", (name) => {
    const endpoint = new URL(envOf(services[name]!).OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://unset');
    // OTLP/HTTP (the JavaScript SDK's default protocol, http/protobuf): the SDK appends /v1/traces.
    expect({ host: endpoint.hostname, port: Number(endpoint.port), path: endpoint.pathname }).toEqual({ host: 'jaeger', port: OTLP_HTTP, path: '/' });
  });

  it.each(SHOP_SERVICES.map((s) => [s]))('%s takes OTEL_EXPORTER_OTLP_ENDPOINT from the environment, where an empty value turns exporting off', (name) => {
    // `${VAR-default}`, not `${VAR:-default}`: the default applies only when the variable is unset, so
    // OTEL_EXPORTER_OTLP_ENDPOINT= reaches the SDK empty, which the OpenTelemetry specification reads as unset.
    expect(rawEnvOf(services[name]!).OTEL_EXPORTER_OTLP_ENDPOINT).toMatch(/^\$\{OTEL_EXPORTER_OTLP_ENDPOINT-[^}]+\}$/);
  });

  it('sets OTEL_EXPORTER_OTLP_ENDPOINT on every shop service compose runs', () => {
    expect(shopServices.filter(({ svc }) => envOf(svc).OTEL_EXPORTER_OTLP_ENDPOINT === undefined).map((s) => s.name)).toEqual([]);
  });
});
