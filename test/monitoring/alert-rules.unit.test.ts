// The alert rules may only use metrics the code exports, and the README documents each rule and metric.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { alertNames, RULES_FILE } from '../../scripts/test-rules';

const root = resolve(import.meta.dirname, '../..');
const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'by',
  'without',
  'and',
  'or',
  'unless',
  'delta',
  'rate',
  'increase',
  'deriv',
  'bool',
  'offset',
]);

/** Metric names an expression reads: identifiers outside label matchers, ranges and grouping clauses. */
function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without)\s*\([^)]*\)/g, ' ');
  return [...new Set([...bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w)))];
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(resolve(dir, e.name)) : e.name.endsWith('.ts') && !e.name.includes('.test.') ? [resolve(dir, e.name)] : [],
  );
}

const rules = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
const source = tsFiles(resolve(root, 'services'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');

describe('monitoring/prometheus/alerts.yml', () => {
  it('reads the metric names out of an expression', () => {
    expect(metricsOf('sum by (group, topic) (delta(consumer_lag_messages{group="x"}[10m])) > 0 and max(dlq_messages) > 1')).toEqual([
      'consumer_lag_messages',
      'dlq_messages',
    ]);
  });

  it('uses only metrics a service or the relay registers', () => {
    const used = [...new Set(rules.flatMap((r) => metricsOf(r.expr)))];
    expect(used.length).toBeGreaterThanOrEqual(5);
    expect(used.filter((m) => !source.includes(`name: '${m}'`))).toEqual([]);
  });

  it('has every alert and every metric it uses documented in the README', () => {
    expect(alertNames()).toEqual(rules.map((r) => r.alert));
    const names = [...rules.map((r) => r.alert), ...rules.flatMap((r) => metricsOf(r.expr))];
    expect(names.filter((n) => !readme.includes(`\`${n}\``))).toEqual([]);
  });
});
