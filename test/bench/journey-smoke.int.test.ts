// The journey benchmark in its smoke preset (a few seconds of each kind of run, a one-second ceiling), so
// that `npm test` notices when it stops working: it must start its shop, settle every order it placed,
// measure CPU by process, the idle shop and the ceiling, and write its results, table and chart.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOURNEY_DEFAULTS, JOURNEY_SMOKE, runJourneyBench } from '../../bench/journey';

describe('npm run bench -- journey --smoke', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'qtshop-journey-bench-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('places orders closed loop, open loop and overloaded, settles every one in order-query, and reports CPU, idle cost and the ceiling', async () => {
    const { results, files } = await runJourneyBench({
      ...JOURNEY_DEFAULTS,
      ...JOURNEY_SMOKE,
      outDir: out,
      progress: false,
      command: 'test/bench/journey-smoke.int.test.ts',
    });

    // The overload run offers twice the best confirmed rate: order admission may refuse some (503, apart from failed).
    expect(results.rows.map((r) => r.kind)).toEqual(['closed', 'open', 'overload']);
    for (const r of results.rows) {
      expect(r.orders).toBeGreaterThan(0);
      expect({ label: r.label, failed: r.failed, pending: r.pending, settled: r.confirmed + r.rejected }).toEqual({
        label: r.label,
        failed: 0,
        pending: 0,
        settled: r.orders,
      });
      expect(r.confirmedPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(r.confirmMs.p99)).toBe(true);
      // Every process of the shop and the stack was measured.
      expect(Object.keys(r.cpuMsPerOrder)).toEqual(expect.arrayContaining(['postgres', 'kafka', 'connect', 'mongo', 'order-command', 'order-query', 'relay']));
    }
    expect(results.idle?.totalPct).toBeGreaterThan(0);
    expect(results.ceiling?.rows.map((c) => c.database)).toEqual(['orders', 'inventory', 'order_query', 'catalog']);
    expect(results.ceiling?.rows.every((c) => c.ordersPerSecond > 0 && c.failed === 0)).toBe(true);

    expect(JSON.parse(await readFile(files.json, 'utf8'))).toMatchObject({ name: 'journey-smoke' });
    expect(await readFile(files.md, 'utf8')).toContain('## Ceiling: PostgreSQL alone');
    expect(await readFile(files.svg, 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);
  }, 300_000);
});
