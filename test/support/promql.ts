// PromQL read statically, for the tests of what reads our metrics (the alert rules, the Grafana dashboard):
// the metric names an expression selects, and the metric names the code registers with prom-client.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** Words of PromQL that are not metric names when they are not followed by `(` (functions and aggregations are). */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/**
 * Metric names an expression reads: identifiers outside string literals, label matchers, ranges and
 * grouping clauses that are neither keywords nor called (functions, aggregations). Grafana variables
 * ($__rate_interval, $group) are skipped.
 */
export function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const words = [...bare.matchAll(/(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:])(?!\s*\()/g)].map((m) => m[0]);
  return [...new Set(words.filter((w) => !KEYWORDS.has(w.toLowerCase())))];
}

export type MetricType = 'Counter' | 'Gauge' | 'Histogram' | 'Summary';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(resolve(dir, e.name)) : e.name.endsWith('.ts') && !e.name.includes('.test.') ? [resolve(dir, e.name)] : [],
  );
}

/** Every metric a service or the relay registers (`new Counter({ name: '…'`, …), by name, read from services/. */
export function registeredMetrics(): Map<string, MetricType> {
  const found = new Map<string, MetricType>();
  for (const file of sourceFiles(resolve(root, 'services'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)) {
      found.set(m[2]!, m[1] as MetricType);
    }
  }
  return found;
}

/** The series names Prometheus stores for the registered metrics: a histogram's _bucket, _sum and _count, a summary's quantiles, _sum and _count. */
export function exposedSeriesNames(metrics = registeredMetrics()): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of metrics) {
    if (type === 'Histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'Summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}
