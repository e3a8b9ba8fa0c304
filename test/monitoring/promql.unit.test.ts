// The static PromQL reading the alert-rule and dashboard tests rely on.
import { exposedSeriesNames, metricsOf, registeredMetrics } from '../support/promql';

describe('metricsOf', () => {
  it('skips functions, aggregations, grouping labels, ranges, Grafana variables and numbers', () => {
    expect(metricsOf('histogram_quantile(0.95, sum by (group, le) (rate(consumer_event_latency_seconds_bucket{group=~"$group"}[$__rate_interval])))')).toEqual([
      'consumer_event_latency_seconds_bucket',
    ]);
    expect(metricsOf('max(relay_slot_retained_wal_bytes) by (slot) > 1073741824 or on (slot) vector(0) * 1e3')).toEqual(['relay_slot_retained_wal_bytes']);
    expect(metricsOf('sum without (instance) (up offset 5m) unless bool dlq_messages')).toEqual(['up', 'dlq_messages']);
  });

  it('skips string arguments', () => {
    expect(metricsOf('label_replace(consumer_lag_messages, "dst", "$1", "group", "qtshop-(.*)")')).toEqual(['consumer_lag_messages']);
  });
});

describe('registeredMetrics', () => {
  it('finds the metrics of the shared HTTP app, the consumer runner and the relay, with their types', () => {
    const metrics = registeredMetrics();
    expect(metrics.get('http_request_duration_seconds')).toBe('Histogram');
    expect(metrics.get('consumer_event_latency_seconds')).toBe('Histogram');
    expect(metrics.get('consumer_events_total')).toBe('Counter');
    expect(metrics.get('relay_slot_retained_wal_bytes')).toBe('Gauge');
    expect(metrics.get('dlq_pending_messages')).toBe('Gauge');
  });

  it('exposes a histogram as its _bucket, _sum and _count series, not under its own name', () => {
    const names = exposedSeriesNames();
    expect(names.has('consumer_event_latency_seconds_bucket')).toBe(true);
    expect(names.has('consumer_event_latency_seconds_count')).toBe(true);
    expect(names.has('consumer_event_latency_seconds')).toBe(false);
    expect(names.has('consumer_lag_messages')).toBe(true);
  });
});
