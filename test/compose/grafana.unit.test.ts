// Grafana of docker-compose.yml checked statically: its provisioning (data sources, dashboard
// provider) as the container sees it, and the committed dashboards, which may only query metrics the code
// registers or, in their Kafka Connect row, metrics the JMX exporter's rules make.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { exposedSeriesNames, metricsOf } from '../support/promql';
import { compose, envOf, healthcheckOf, mountsOf, publishedPorts, rawEnvOf, read, repoPathOf, root, services } from './compose-file';
import { jmxRuleNames, type JmxExporterConfig } from './jmx-exporter';

const exists = (path: string | undefined) => path !== undefined && existsSync(resolve(root, path));

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
