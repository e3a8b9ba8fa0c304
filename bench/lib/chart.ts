// Charts for the benchmark results: Vega-Lite specs compiled to Vega and rendered to SVG headless
// (no browser, no canvas: the 'none' renderer and View.toSVG()). Without a canvas Vega estimates text
// widths generously, hence the wide label limits.
import * as vega from 'vega';
import * as vl from 'vega-lite';

export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface BarRow {
  /** Bar label on the category axis. */
  label: string;
  /** Series (colour), e.g. p50 / p90 / p99 or steady / drain. */
  series: string;
  value: number;
}

/**
 * Grouped horizontal bars: one row per label, one bar per series. `log` for latencies spanning decades:
 * the bars then start at `logBase` (a log axis has no zero).
 */
export function groupedBars(opts: {
  title: string;
  unit: string;
  rows: BarRow[];
  log?: boolean;
  logBase?: number;
  width?: number;
  seriesOrder?: string[];
  /** d3-format of the value printed beside each bar. */
  format?: string;
}): vl.TopLevelSpec {
  const base = opts.logBase ?? 1;
  const values = opts.rows
    .filter((r) => Number.isFinite(r.value) && (!opts.log || r.value > 0))
    .map((r) => ({ ...r, value: opts.log ? Math.max(base, r.value) : r.value }));
  const sort = opts.seriesOrder ?? null;
  const grouped = new Set(values.map((v) => v.series)).size > 1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    width: opts.width ?? 560,
    height: grouped ? { step: 9, for: 'offset' } : { step: 16 },
    data: { values },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: {
            field: 'value',
            type: 'quantitative',
            title: opts.unit,
            ...(opts.log ? { scale: { type: 'log' as const, domainMin: base } } : {}),
          },
          ...(opts.log ? { x2: { datum: base } } : {}),
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 8 },
        encoding: {
          x: { field: 'value', type: 'quantitative' },
          text: { field: 'value', type: 'quantitative', format: opts.format ?? ',.0f' },
        },
      },
    ],
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 480 } },
      ...(grouped ? { yOffset: { field: 'series', type: 'nominal', sort } } : {}),
      color: { field: 'series', type: 'nominal', title: null, sort, ...(grouped ? {} : { legend: null }) },
    },
  } as vl.TopLevelSpec;
}

/** Stacks several charts vertically into one SVG. */
export function stack(title: string, charts: vl.TopLevelSpec[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    vconcat: charts.map(({ $schema: _s, ...rest }) => rest),
    resolve: { scale: { color: 'independent' } },
    config: { font: 'Helvetica, Arial, sans-serif', axis: { labelLimit: 480 } },
  } as vl.TopLevelSpec;
}
