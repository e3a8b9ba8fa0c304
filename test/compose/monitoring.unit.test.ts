// The monitoring of docker-compose.yml checked statically (issue 15): the Kafka Connect JMX exporter,
// Prometheus, Grafana with its provisioned dashboard, and Jaeger, with the files their containers mount read
// from the tree as the containers would see them. The dashboard may only query metrics the code registers
// (or, in its Kafka Connect row, the JMX exporter's rules make).
import { existsSync, readdirSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { portSettingOf, SHOP_SERVICES, type ShopService } from '@qtshop/shared/tooling';
import { RULES_FILE } from '../../scripts/test-rules';
import { exposedSeriesNames, metricsOf } from '../support/promql';
import {
  commandOf,
  compose,
  dependsOn,
  envOf,
  healthcheckOf,
  MAIN,
  mountsOf,
  publishedPorts,
  rawEnvOf,
  read,
  repoPathOf,
  root,
  services,
} from './compose-file';

const exists = (path: string | undefined) => path !== undefined && existsSync(resolve(root, path));

const MONITORING = ['prometheus', 'grafana', 'jaeger'];

/** The compose services that run a shop service (services/<name>/src/main.ts), with the folder they run. */
const shopServices = Object.entries(services).flatMap(([name, svc]) => {
  const folder = MAIN.exec(commandOf(svc))?.[1];
  return folder ? [{ name, svc, folder: folder as ShopService }] : [];
});

describe('compose monitoring', () => {
  it('is something nothing else waits for: a monitoring container that is down costs metrics, not orders', () => {
    for (const [name, svc] of Object.entries(services)) {
      expect({ name, waitsFor: Object.keys(dependsOn(svc)).filter((d) => MONITORING.includes(d)) }).toEqual({ name, waitsFor: [] });
    }
  });

  it.each(MONITORING)('%s is restarted when it dies and has a healthcheck', (name) => {
    expect(services[name]!.restart).toBe('unless-stopped');
    expect(healthcheckOf(services[name]!)).toMatch(/\S/);
  });
});

// ---------------------------------------------------------------- Kafka Connect JMX exporter

interface JmxRule {
  pattern: string;
  name?: string;
  type?: string;
}
interface JmxExporterConfig {
  lowercaseOutputName?: boolean;
  rules: JmxRule[];
}

/** `-javaagent:<jar>=[host:]<port>:<config>` in a JVM options string. */
function javaAgentOf(opts: string | undefined): { jar: string; port: number; config: string } | undefined {
  const m = /-javaagent:(\S+?\.jar)=(?:[^:\s]+:)?(\d+):(\S+)/.exec(opts ?? '');
  return m ? { jar: m[1]!, port: Number(m[2]), config: m[3]! } : undefined;
}

/**
 * The metric names a JMX exporter rule can produce, as patterns: `$n` stands for what the n-th group of
 * the rule's pattern matched (each alternative when the group is a list of words); the exporter turns
 * other characters into `_`, lowercases the name with lowercaseOutputName, and keeps `_total` only on a
 * counter (verified with jmx_prometheus_javaagent 1.0.1 against MBeans named like Kafka's and Debezium's).
 */
function jmxRuleNames(rule: JmxRule, lowercase: boolean): RegExp[] {
  if (!rule.name) return [];
  const groups: string[] = [];
  for (let i = 0; i < rule.pattern.length; i++) {
    if (rule.pattern[i] !== '(' || rule.pattern[i - 1] === '\\' || rule.pattern[i + 1] === '?') continue;
    let depth = 0;
    for (let j = i; j < rule.pattern.length; j++) {
      if (rule.pattern[j] === '(' && rule.pattern[j - 1] !== '\\') depth++;
      if (rule.pattern[j] === ')' && rule.pattern[j - 1] !== '\\' && --depth === 0) {
        groups.push(rule.pattern.slice(i + 1, j));
        break;
      }
    }
  }
  const expand = (name: string): string[] => {
    const m = /\$(\d)/.exec(name);
    if (!m) return [name];
    const group = groups[Number(m[1]) - 1] ?? '';
    const words = /^[\w-]+(\|[\w-]+)*$/.test(group) ? group.split('|') : ['\u0000'];
    return words.flatMap((w) => expand(name.replace(m[0], w)));
  };
  return expand(rule.name).map((raw) => {
    let name = raw.replace(/[^a-zA-Z0-9_:\u0000]/g, '_');
    if (lowercase) name = name.toLowerCase();
    if (rule.type === 'COUNTER' && !name.endsWith('_total')) name += '_total';
    if (rule.type !== 'COUNTER') name = name.replace(/_total$/, '');
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\u0000/g, '[a-z0-9_]+');
    return new RegExp(`^${escaped}$`);
  });
}

describe('compose: Kafka Connect JMX exporter', () => {
  const connect = services.connect!;
  const job = services['connect-jmx-exporter']!;
  const env = envOf(connect);
  const jobEnv = envOf(job);
  const agent = javaAgentOf(env.KAFKA_OPTS);

  it("loads the exporter as a Java agent through KAFKA_OPTS, not through the image's ENABLE_JMX_EXPORTER switch (it wants a jar the image does not ship)", () => {
    expect(agent).toEqual({ jar: expect.stringMatching(/jmx_prometheus_javaagent-[\d.]+\.jar$/), port: expect.any(Number), config: expect.any(String) });
    expect(env.ENABLE_JMX_EXPORTER).toBeUndefined();
  });

  it('finds the agent in a volume the one-shot connect-jmx-exporter job fills, of the version the job resolves, before Connect starts', () => {
    const mount = mountsOf(connect).find((m) => posix.dirname(agent!.jar) === m.target);
    expect(mount).toMatchObject({ bind: false, readOnly: true });
    expect(compose.volumes).toHaveProperty([mount!.source]);
    expect(mountsOf(job)).toContainEqual({ source: mount!.source, target: jobEnv.JMX_EXPORTER_DIR, bind: false, readOnly: false });
    expect(posix.basename(agent!.jar)).toBe(`jmx_prometheus_javaagent-${jobEnv.JMX_EXPORTER_VERSION}.jar`);
    expect(jobEnv.JMX_EXPORTER_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(dependsOn(connect)['connect-jmx-exporter']).toBe('service_completed_successfully');
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
  const jobWithTarget = (target: string) => config.scrape_configs.find((j) => (j.static_configs ?? []).some((c) => c.targets.includes(target)));

  /** Every compose service that runs services/<name>/src/main.ts serves /metrics on its HTTP port (createHttpApp). */
  const metricsEndpoints = shopServices.map(({ name, svc, folder }) => ({ name, target: `${name}:${envOf(svc)[portSettingOf(folder)]}` }));

  it('reads the committed monitoring/prometheus/prometheus.yml through a read-only mount', () => {
    expect(configFile).toBe('monitoring/prometheus/prometheus.yml');
    expect(mountsOf(prometheus).find((m) => configPath!.startsWith(m.target))).toMatchObject({ bind: true, readOnly: true });
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

  it('scrapes the Kafka Connect JMX exporter at the port its agent listens on', () => {
    const agent = javaAgentOf(envOf(services.connect!).KAFKA_OPTS);
    expect(jobWithTarget(`connect:${agent?.port}`)?.job_name).toBe('connect');
  });

  it('scrapes only containers compose runs, and labels no target `service` (the services label their own series so)', () => {
    for (const job of config.scrape_configs) {
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

// ---------------------------------------------------------------- Grafana

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  isDefault?: boolean;
  jsonData?: { timeInterval?: string };
}
interface Target {
  expr?: string;
  datasource?: { uid?: string; type?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string; type?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const DASHBOARDS = 'monitoring/grafana/dashboards';
/** The Kafka Connect row: the only one that may query the JMX exporter's metrics, and it queries nothing else. */
const JMX_ROW = /^Kafka Connect \(JMX exporter/;
/** Series Prometheus makes itself, not a scraped target. */
const PROMETHEUS_SERIES = new Set(['up']);

/** Each panel with the row it sits in (Grafana keeps an open row's panels after it, a collapsed row's inside it). */
function panelsByRow(dashboard: Dashboard): Array<{ row: string; panel: Panel }> {
  let row = '';
  return dashboard.panels.flatMap((p) => {
    if (p.type !== 'row') return [{ row, panel: p }];
    row = p.title;
    return (p.panels ?? []).map((panel) => ({ row, panel }));
  });
}

describe('compose: Grafana', () => {
  const grafana = services.grafana!;
  const provisioning = (kind: string) => repoPathOf(grafana, `/etc/grafana/provisioning/${kind}`);
  const yamlFiles = (dir: string | undefined) =>
    (exists(dir) ? readdirSync(resolve(root, dir!)).filter((f) => /\.ya?ml$/.test(f)) : []).map((f) => `${dir}/${f}`);
  const datasources = yamlFiles(provisioning('datasources')).flatMap((f) => (parse(read(f)) as { datasources: Datasource[] }).datasources);
  const providers = yamlFiles(provisioning('dashboards')).flatMap(
    (f) => (parse(read(f)) as { providers: Array<{ type: string; options: { path: string } }> }).providers,
  );
  const dashboardDirs = providers.map((p) => repoPathOf(grafana, p.options.path));
  /** The committed dashboards; the provider must load them from where they are mounted. */
  const dashboardFiles = readdirSync(resolve(root, DASHBOARDS))
    .filter((f) => f.endsWith('.json'))
    .map((f) => `${DASHBOARDS}/${f}`);
  const prometheusConfig = parse(read('monitoring/prometheus/prometheus.yml')) as { global: { scrape_interval: string } };

  it('provisions its data sources and dashboard provider from monitoring/grafana/provisioning, mounted read-only', () => {
    expect({ datasources: provisioning('datasources'), dashboards: provisioning('dashboards') }).toEqual({
      datasources: 'monitoring/grafana/provisioning/datasources',
      dashboards: 'monitoring/grafana/provisioning/dashboards',
    });
    for (const m of mountsOf(grafana).filter((m) => m.bind)) expect({ m: m.target, readOnly: m.readOnly }).toEqual({ m: m.target, readOnly: true });
    expect(datasources.length).toBeGreaterThan(0);
    expect(providers.length).toBeGreaterThan(0);
  });

  it('reaches Prometheus and Jaeger by compose service name at the ports they listen on', () => {
    const byType = (type: string) => datasources.filter((d) => d.type === type);
    expect(byType('prometheus').map((d) => d.url)).toEqual([`http://prometheus:${publishedPorts(services.prometheus!)[0]!.container}`]);
    expect(byType('jaeger').map((d) => d.url)).toEqual([`http://jaeger:${publishedPorts(services.jaeger!).find((p) => p.container === 16686)?.container}`]);
    expect(byType('prometheus')[0]).toMatchObject({ isDefault: true, jsonData: { timeInterval: prometheusConfig.global.scrape_interval } });
    expect(new Set(datasources.map((d) => d.uid)).size).toBe(datasources.length);
  });

  it('loads the committed dashboards (monitoring/grafana/dashboards), mounted read-only where its provider looks', () => {
    expect(providers.map((p) => p.type)).toEqual(['file']);
    expect(dashboardDirs).toEqual([DASHBOARDS]);
    expect(dashboardFiles).toContain(`${DASHBOARDS}/qtshop-pipeline.json`);
    const home = envOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home && repoPathOf(grafana, home)).toBe('monitoring/grafana/dashboards/qtshop-pipeline.json');
  });

  it('requires GRAFANA_ADMIN_PASSWORD rather than starting with a password everyone knows', () => {
    expect(rawEnvOf(grafana).GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/);
    expect(envOf(grafana)).toMatchObject({ GF_USERS_ALLOW_SIGN_UP: 'false', GF_AUTH_ANONYMOUS_ENABLED: 'false' });
  });

  it('publishes its UI on GRAFANA_PORT (3000), keeps its database in a volume and reports health from /api/health', () => {
    expect(publishedPorts(grafana)).toEqual([{ host: 3000, container: 3000 }]);
    const data = mountsOf(grafana).find((m) => m.target === '/var/lib/grafana');
    expect(data).toMatchObject({ bind: false });
    expect(compose.volumes).toHaveProperty([data!.source]);
    expect(healthcheckOf(grafana)).toContain('http://127.0.0.1:3000/api/health');
  });

  describe.each(dashboardFiles.map((f) => [f]))('dashboard %s', (file) => {
    let parsed: Dashboard | Error;
    try {
      parsed = JSON.parse(read(file)) as Dashboard;
    } catch (err) {
      parsed = err as Error;
    }
    const dashboard = parsed instanceof Error ? ({ uid: '', title: '', panels: [] } as Dashboard) : parsed;
    const panels = panelsByRow(dashboard);
    const queries = panels.flatMap(({ row, panel }) =>
      (panel.targets ?? []).map((t) => ({ row, panel: panel.title, target: t, metrics: metricsOf(t.expr ?? '') })),
    );
    const jmxConfig = parse(read('monitoring/connect/jmx-exporter.yml')) as JmxExporterConfig;
    const jmxNames = jmxConfig.rules.flatMap((r) => jmxRuleNames(r, jmxConfig.lowercaseOutputName ?? false));
    const isJmx = (m: string) => jmxNames.some((re) => re.test(m));
    const exported = exposedSeriesNames();

    it('parses as JSON', () => {
      expect(parsed instanceof Error ? parsed.message : 'parsed').toBe('parsed');
    });

    it('has a uid, a title and panels with unique ids, each query on a provisioned data source', () => {
      expect(dashboard.uid).toMatch(/^[a-z0-9-]+$/);
      expect(dashboard.title).toMatch(/\S/);
      const ids = panels.map((p) => p.panel.id);
      expect(new Set(ids).size).toBe(ids.length);
      const uids = new Set(datasources.map((d) => d.uid));
      for (const q of queries)
        expect({ panel: q.panel, uid: q.target.datasource?.uid, known: uids.has(q.target.datasource?.uid ?? '') }).toMatchObject({ known: true });
    });

    it('queries only metrics the services and the relay register (outside the Kafka Connect row)', () => {
      const unknown = queries
        .filter((q) => !JMX_ROW.test(q.row))
        .flatMap((q) => q.metrics.filter((m) => !exported.has(m) && !PROMETHEUS_SERIES.has(m)).map((m) => `${q.panel}: ${m}`));
      expect(unknown).toEqual([]);
    });

    it('queries only the JMX exporter metrics monitoring/connect/jmx-exporter.yml makes, and only in its own row', () => {
      const jmxRows = new Set(queries.filter((q) => q.metrics.some(isJmx)).map((q) => q.row));
      expect([...jmxRows].filter((r) => !JMX_ROW.test(r))).toEqual([]);
      const unknown = queries.filter((q) => JMX_ROW.test(q.row)).flatMap((q) => q.metrics.filter((m) => !isJmx(m)).map((m) => `${q.panel}: ${m}`));
      expect(unknown).toEqual([]);
    });

    if (file.endsWith('qtshop-pipeline.json')) {
      it('shows pipeline health, end-to-end latency, consumer lag, slot WAL, outbox age and dead letters', () => {
        const used = new Set(queries.flatMap((q) => q.metrics));
        for (const m of [
          'up',
          'relay_connector_state',
          'consumer_group_members',
          'consumer_event_latency_seconds_bucket',
          'consumer_lag_messages',
          'relay_slot_retained_wal_bytes',
          'relay_slot_active',
          'relay_oldest_unconfirmed_age_seconds',
          'dlq_messages',
          'dlq_pending_messages',
          'kafka_connect_connector_status',
          'kafka_connect_task_status',
        ]) {
          expect({ metric: m, shown: used.has(m) }).toEqual({ metric: m, shown: true });
        }
        expect(queries.some((q) => /histogram_quantile\(0\.9\d*, .*consumer_event_latency_seconds_bucket/.test(q.target.expr ?? ''))).toBe(true);
      });
    }
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
