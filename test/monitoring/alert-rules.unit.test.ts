// The alert rules may only use metrics the code exports, and docs/operations.md documents each rule and metric.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { alertNames, RULES_FILE } from '../../scripts/test-rules';
import { metricsOf, registeredMetrics } from '../support/promql';

const root = resolve(import.meta.dirname, '../..');

const rules = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
const operations = readFileSync(resolve(root, 'docs/operations.md'), 'utf8');

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
    const registered = registeredMetrics();
    expect(used.filter((m) => !registered.has(m))).toEqual([]);
  });

  it('has every alert and every metric it uses documented in docs/operations.md', () => {
    expect(alertNames()).toEqual(rules.map((r) => r.alert));
    const names = [...rules.map((r) => r.alert), ...rules.flatMap((r) => metricsOf(r.expr))];
    expect(names.filter((n) => !operations.includes(`\`${n}\``))).toEqual([]);
  });
});
