// Summing up V8 CPU profiles: self time by node over a window, by function and by where the code lives.
import { profileFileOf, selfTimeByNode, siteOf, summarizeProfiles, type CpuProfile, type CpuProfileNode } from './cpuprofile';

const ROOT = '/repo';
const OWN = 'services/order-command/src';

const node = (id: number, functionName: string, url: string, lineNumber: number, children: number[] = []): CpuProfileNode => ({
  id,
  callFrame: { functionName, url, lineNumber, columnNumber: 0 },
  children,
});

/**
 * (root) → handle (own code) → query (pg) → Socket._writeGeneric (node:net) → writev (native)
 *                            → encode (@scope/pkg)
 *        → emit (node:events) → trace (shared observability) → (anonymous) (knex, a CommonJS path)
 *                             → writev (native)
 *        → (garbage collector), (program), (idle)
 */
const NODES = [
  node(1, '(root)', '', -1, [2, 7, 10, 11, 12]),
  node(2, 'handle', 'file:///repo/services/order-command/src/app.ts', 9, [3, 5]),
  node(3, 'query', 'file:///repo/node_modules/pg/lib/client.js', 99, [13]),
  node(13, 'Socket._writeGeneric', 'node:net', 900, [4]),
  node(4, 'writev', '', -1),
  node(5, 'encode', 'file:///repo/node_modules/@scope/pkg/index.js', 0),
  node(7, 'emit', 'node:events', 4, [8, 14]),
  node(8, 'trace', 'file:///repo/services/shared/src/observability/tracing.ts', 19, [9]),
  node(9, '', '/repo/node_modules/knex/lib/runner.js', 41),
  node(14, 'writev', '', -1),
  node(10, '(garbage collector)', '', -1),
  node(11, '(program)', '', -1),
  node(12, '(idle)', '', -1),
];

/** One sample per entry: [node, µs until the next sample]; the first is taken 100 µs after startTime (1,000). */
function profileOf(samples: Array<[number, number]>): CpuProfile {
  const deltas = [100, ...samples.slice(0, -1).map(([, us]) => us)];
  const taken = samples.reduce((sum, [, us]) => sum + us, 0);
  return { nodes: NODES, startTime: 1000, endTime: 1000 + 100 + taken, samples: samples.map(([id]) => id), timeDeltas: deltas };
}

const PROFILE = profileOf([
  [2, 1000], // handle: 1 ms
  [4, 3000], // writev of pg's socket write: 3 ms
  [3, 2000], // query: 2 ms
  [5, 500], // encode: 0.5 ms
  [12, 10_000], // idle: 10 ms
  [9, 1500], // knex: 1.5 ms
  [8, 500], // trace: 0.5 ms
  [10, 2000], // GC: 2 ms
  [11, 1000], // (program): 1 ms
  [13, 1000], // Socket._writeGeneric of pg's socket write: 1 ms
  [14, 1000], // writev called by no code outside Node: 1 ms (the last sample lasts until endTime)
]);

describe('profileFileOf', () => {
  it('reads the pid and thread out of the name --cpu-prof gives a profile', () => {
    expect(profileFileOf('CPU.20261206.173438.30983.0.001.cpuprofile')).toEqual({ pid: 30983, thread: 0 });
    expect(profileFileOf('CPU.20261206.173438.412.3.017.cpuprofile')).toEqual({ pid: 412, thread: 3 });
  });

  it('ignores any other file', () => {
    expect(profileFileOf('CPU.20261206.173438.30983.0.001.cpuprofile.tmp')).toBeUndefined();
    expect(profileFileOf('Heap.20261206.173438.30983.0.001.heapprofile')).toBeUndefined();
    expect(profileFileOf('notes.txt')).toBeUndefined();
  });
});

describe('siteOf', () => {
  it('names an npm package (scoped, nested, by file URL or by path) with the file inside it', () => {
    expect(siteOf('file:///repo/node_modules/pg/lib/client.js', 99, ROOT, OWN)).toEqual({ place: 'pg', location: 'pg/lib/client.js:100' });
    expect(siteOf('file:///repo/node_modules/@opentelemetry/api/build/x.js', 0, ROOT, OWN)).toEqual({
      place: '@opentelemetry/api',
      location: '@opentelemetry/api/build/x.js:1',
    });
    expect(siteOf('/repo/node_modules/knex/node_modules/debug/src/node.js', 4, ROOT, OWN)).toEqual({ place: 'debug', location: 'debug/src/node.js:5' });
  });

  it("tells the process's own code from a shared concern, another service and the repository's other directories", () => {
    expect(siteOf('file:///repo/services/order-command/src/app.ts', 9, ROOT, OWN)).toEqual({ place: `own code (${OWN})`, location: `${OWN}/app.ts:10` });
    expect(siteOf('file:///repo/services/shared/src/outbox/writer.ts', 0, ROOT, OWN)).toEqual({
      place: 'services/shared/src/outbox',
      location: 'services/shared/src/outbox/writer.ts:1',
    });
    expect(siteOf('file:///repo/services/catalog/src/config.ts', 0, ROOT, OWN).place).toBe('services/catalog');
    expect(siteOf('file:///repo/scripts/shop.ts', 0, ROOT, 'scripts').place).toBe('own code (scripts)');
    expect(siteOf('file:///repo/stack/procs.ts', 0, ROOT, OWN).place).toBe('stack');
  });

  it("puts Node's modules together, and files outside the repository apart", () => {
    expect(siteOf('node:internal/streams/writable', 10, ROOT, OWN)).toEqual({ place: 'node: internals', location: 'node:internal/streams/writable:11' });
    expect(siteOf('file:///elsewhere/x.js', 0, ROOT, OWN).place).toBe('other');
  });
});

describe('selfTimeByNode', () => {
  it("gives each sample the time until the next one, the last until the profile's end", () => {
    const self = selfTimeByNode(PROFILE);
    expect(self.get(4)).toBe(3000);
    expect(self.get(14)).toBe(1000);
    expect(self.get(12)).toBe(10_000);
    expect(self.get(2)).toBe(1000);
    expect([...self.values()].reduce((a, b) => a + b, 0)).toBe(PROFILE.endTime - PROFILE.startTime - 100);
  });

  it('counts only the samples taken inside the window', () => {
    // Samples are taken at 1100 (handle), 2100 (writev), 5100 (query), 7100 (encode), 7600 (idle), 17600 (knex), …
    const self = selfTimeByNode(PROFILE, { fromUs: 2100, toUs: 7100 });
    expect(Object.fromEntries(self)).toEqual({ 4: 3000, 3: 2000 });
  });
});

describe('summarizeProfiles', () => {
  const s = summarizeProfiles([PROFILE], { root: ROOT, own: OWN });

  it('leaves (idle) out of the sampled time and the tables, and keeps it apart', () => {
    expect(s.idleMs).toBe(10);
    expect(s.sampledMs).toBe(13.5);
    expect(s.places.map((p) => p.place)).not.toContain('(idle)');
    expect(s.functions.map((f) => f.name)).not.toContain('(idle)');
  });

  it("sums self time by place, native code counting for its caller's, and Node's code also for the package that called it", () => {
    expect(s.places).toEqual([
      { place: 'node: internals', ms: 5, withCalledMs: 1 },
      { place: 'pg', ms: 2, withCalledMs: 6 },
      { place: '(garbage collector)', ms: 2, withCalledMs: 2 },
      { place: 'knex', ms: 1.5, withCalledMs: 1.5 },
      { place: `own code (${OWN})`, ms: 1, withCalledMs: 1 },
      { place: '(program)', ms: 1, withCalledMs: 1 },
      { place: '@scope/pkg', ms: 0.5, withCalledMs: 0.5 },
      { place: 'services/shared/src/observability', ms: 0.5, withCalledMs: 0.5 },
    ]);
  });

  it('sums self time by function and the code that led to it, most first, naming anonymous functions and native code', () => {
    expect(s.functions.slice(0, 4)).toEqual([
      { name: 'writev', location: '(native)', place: 'node: internals', via: 'pg', ms: 3 },
      { name: 'query', location: 'pg/lib/client.js:100', place: 'pg', ms: 2 },
      { name: '(garbage collector)', location: '', place: '(garbage collector)', ms: 2 },
      { name: '(anonymous)', location: 'knex/lib/runner.js:42', place: 'knex', ms: 1.5 },
    ]);
    expect(s.functions).toContainEqual({ name: 'Socket._writeGeneric', location: 'node:net:901', place: 'node: internals', via: 'pg', ms: 1 });
    expect(s.functions).toContainEqual({ name: 'writev', location: '(native)', place: 'node: internals', ms: 1 });
    expect(s.functions).toHaveLength(10);
  });

  it("adds up a process's threads and keeps to the window", () => {
    const two = summarizeProfiles([PROFILE, PROFILE], { root: ROOT, own: OWN, window: { fromUs: 2100, toUs: 7100 } });
    expect(two.sampledMs).toBe(10);
    expect(two.places).toEqual([
      { place: 'node: internals', ms: 6, withCalledMs: 0 },
      { place: 'pg', ms: 4, withCalledMs: 10 },
    ]);
  });
});
