// The relay benchmark in its smoke preset (a few hundred events per scenario, every relay, no thresholds),
// so that `npm test` notices when the benchmark stops working: it must complete, lose nothing and write
// its results, table and chart.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, SMOKE, runRelayBench } from '../../bench/relay';

describe('npm run bench -- relay --smoke', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'qtshop-relay-bench-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('runs baseline, Debezium and polling scenarios with zero lost and writes the JSON, the table and the chart', async () => {
    const { results, files } = await runRelayBench({ ...DEFAULTS, ...SMOKE, outDir: out, progress: false, command: 'test/bench/relay-smoke.int.test.ts' });

    expect(new Set(results.runs.map((r) => r.relay))).toEqual(new Set(['baseline', 'debezium', 'polling']));
    expect(results.runs.map((r) => r.mode)).toContain('drain');
    for (const r of results.runs) expect(r.sent).toBeGreaterThanOrEqual(SMOKE.backlog!);
    expect(results.runs.filter((r) => r.lost > 0 || r.writeErrors > 0).map((r) => `${r.scenario}: lost ${r.lost}, write errors ${r.writeErrors}`)).toEqual([]);
    expect(results.runs.every((r) => Number.isFinite(r.latencyMs.p99) && r.throughput > 0)).toBe(true);
    expect(results.runs.filter((r) => r.relay === 'polling').every((r) => r.db !== null && r.db.pollsPerS > 0)).toBe(true);
    // Debezium runs carry the relay's delivery confirmation beside them, and its cost is measured.
    const steadyDebezium = results.runs.filter((r) => r.relay === 'debezium' && r.mode === 'steady');
    expect(steadyDebezium.length).toBeGreaterThan(0);
    for (const r of steadyDebezium) expect(r.db?.confirm?.statementsPerS).toBeGreaterThan(0);

    const json = JSON.parse(await readFile(files.json, 'utf8')) as typeof results;
    expect(json.runs).toHaveLength(results.runs.length);
    expect(await readFile(files.md, 'utf8')).toContain('| scenario | sent | received | lost |');
    expect(await readFile(files.md, 'utf8')).toContain('| scenario | confirm stmts/s | confirm SQL ms/s |');
    expect(await readFile(files.svg, 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);
  }, 120_000);
});
