// V8 CPU profiles (the .cpuprofile files `node --cpu-prof` writes when a process exits) summed up: self time
// by function and by where the code lives (an npm package, a shared concern, the process's own code, Node's
// internals), over a window of the profile. Pure: the caller reads the files.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId?: string };
  children?: number[];
  hitCount?: number;
}

/** The format of a .cpuprofile (times in µs of the monotonic clock, the one process.hrtime reads). */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  /** The node each sample was taken in. */
  samples: number[];
  /** µs from the previous sample (the first: from startTime) to each sample. */
  timeDeltas: number[];
}

/** What --cpu-prof names a profile: CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile. */
export function profileFileOf(name: string): { pid: number; thread: number } | undefined {
  const m = /^CPU\.\d{8}\.\d{6}\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(name);
  return m ? { pid: Number(m[1]), thread: Number(m[2]) } : undefined;
}

/** The profiler's own entries: not functions, each a place of its own. `(idle)` is left out of every total. */
export const IDLE = '(idle)';
const PSEUDO = new Set(['(root)', '(program)', '(garbage collector)', IDLE]);

/** Where the code of a call frame lives, and how a report names it. */
export interface CodeSite {
  /** npm package name, `services/shared/src/<concern>`, `own code (<dir>)`, `node: internals`, or a profiler entry. */
  place: string;
  /** The file (repo-relative, or <package>/<path in it>, or a node: module) and its line; '(native)' for native code. */
  location: string;
}

/**
 * Where `url` (a call frame's: a file:// URL, a path or a node: module) lives: `root` is the repository,
 * `own` the directory, relative to it, of the process's own code (services/<service>/src). Files of other
 * directories of the repository go by their first directory (scripts, stack), or by service.
 */
export function siteOf(url: string, line: number, root: string, own: string): CodeSite {
  const at = (file: string) => `${file}:${line + 1}`;
  if (url.startsWith('node:')) return { place: 'node: internals', location: at(url) };
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const inside = path.slice(modules + '/node_modules/'.length).split('/');
    const pkg = inside[0]!.startsWith('@') ? `${inside[0]}/${inside[1]}` : inside[0]!;
    return { place: pkg, location: at(inside.join('/')) };
  }
  const rel = relative(root, path);
  if (!path.startsWith('/') || rel.startsWith('..')) return { place: 'other', location: at(path) };
  const shared = /^services\/shared\/src\/([^/]+)\//.exec(rel);
  if (shared) return { place: `services/shared/src/${shared[1]}`, location: at(rel) };
  if (rel === own || rel.startsWith(`${own}/`)) return { place: `own code (${own})`, location: at(rel) };
  const service = /^services\/([^/]+)\//.exec(rel);
  return { place: service ? `services/${service[1]}` : rel.split('/')[0]!, location: at(rel) };
}

/**
 * Self time (µs) of each node over the samples taken in [fromUs, toUs) (the whole profile without a
 * window): a sample counts the time until the next one (the last, until the profile's end).
 */
export function selfTimeByNode(p: CpuProfile, window?: { fromUs: number; toUs: number }): Map<number, number> {
  const out = new Map<number, number>();
  let t = p.startTime;
  const times = p.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < p.samples.length; i++) {
    const at = times[i]!;
    if (window && (at < window.fromUs || at >= window.toUs)) continue;
    const next = i + 1 < times.length ? times[i + 1]! : p.endTime;
    const id = p.samples[i]!;
    out.set(id, (out.get(id) ?? 0) + Math.max(0, next - at));
  }
  return out;
}

export interface FunctionTime {
  /** functionName, or '(anonymous)'. */
  name: string;
  location: string;
  place: string;
  /**
   * For Node's internals and native code: the code outside them that led to it (its nearest such caller's
   * place: pg for the socket writes of a query); undefined for the rest. One function reached from two such
   * places is two rows.
   */
  via?: string;
  ms: number;
}

export interface PlaceTime {
  place: string;
  /** Self time of the code that lives there. */
  ms: number;
  /** Its self time and that of the Node internals and native code it called (as `via` names them). */
  withCalledMs: number;
}

export interface ProfileSummary {
  /** Sampled time, ms, `(idle)` left out: what the thread spent running (JavaScript, native, GC, the VM). */
  sampledMs: number;
  /** Sampled time in `(idle)` (the event loop waiting), ms. */
  idleMs: number;
  /** Time by place, most self time first, `(idle)` left out. */
  places: PlaceTime[];
  /** Self time by function (one row per function and `via`, wherever it was called from), most first, `(idle)` left out. */
  functions: FunctionTime[];
}

const INTERNAL = new Set(['node: internals', '(native)']);

/**
 * Self time of `profiles` (the threads of one process) by function and by place, over `window`. Native code
 * (a frame without a url: a binding such as writev, a V8 builtin) counts for the place of the JavaScript that
 * called it (its nearest ancestor with a url), and is listed as '(native)'. Node's internals and native code
 * also count, in `withCalledMs`, for the nearest caller outside them.
 */
export function summarizeProfiles(profiles: CpuProfile[], o: { root: string; own: string; window?: { fromUs: number; toUs: number } }): ProfileSummary {
  const places = new Map<string, PlaceTime>();
  const placeOf = (place: string) => places.get(place) ?? places.set(place, { place, ms: 0, withCalledMs: 0 }).get(place)!;
  const functions = new Map<string, FunctionTime>();
  let sampledUs = 0;
  let idleUs = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const sites = new Map<number, CodeSite>();
    const siteOfNode = (id: number): CodeSite => {
      const known = sites.get(id);
      if (known) return known;
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      let site: CodeSite;
      if (PSEUDO.has(functionName) && !url) site = { place: functionName, location: '' };
      else if (url) site = siteOf(url, lineNumber, o.root, o.own);
      else {
        const up = parent.get(id);
        const caller = up === undefined ? undefined : siteOfNode(up);
        site = { place: caller && !PSEUDO.has(caller.place) ? caller.place : '(native)', location: '(native)' };
      }
      sites.set(id, site);
      return site;
    };
    // The place a node's time counts for with its callers': its own, unless it is Node's or native code
    // called (at any depth) from code outside them.
    const callers = new Map<number, string>();
    const callerOf = (id: number): string => {
      const known = callers.get(id);
      if (known) return known;
      const { place } = siteOfNode(id);
      let out = place;
      if (INTERNAL.has(place)) {
        const up = parent.get(id);
        const above = up === undefined ? undefined : callerOf(up);
        if (above !== undefined && !INTERNAL.has(above) && !PSEUDO.has(above)) out = above;
      }
      callers.set(id, out);
      return out;
    };
    for (const [id, us] of selfTimeByNode(p, o.window)) {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      if (functionName === IDLE && !url) {
        idleUs += us;
        continue;
      }
      sampledUs += us;
      const site = siteOfNode(id);
      const caller = callerOf(id);
      // Summed in µs (whole numbers), made ms at the end.
      placeOf(site.place).ms += us;
      placeOf(caller).withCalledMs += us;
      const name = functionName || '(anonymous)';
      const via = caller !== site.place ? caller : undefined;
      const key = `${name}\u0000${url}\u0000${lineNumber}\u0000${via ?? ''}`;
      const f = functions.get(key) ?? { name, location: site.location, place: site.place, ...(via ? { via } : {}), ms: 0 };
      f.ms += us;
      functions.set(key, f);
    }
  }
  return {
    sampledMs: sampledUs / 1000,
    idleMs: idleUs / 1000,
    places: [...places.values()]
      .map((x) => ({ ...x, ms: x.ms / 1000, withCalledMs: x.withCalledMs / 1000 }))
      .sort((a, b) => b.ms - a.ms || b.withCalledMs - a.withCalledMs),
    functions: [...functions.values()].map((f) => ({ ...f, ms: f.ms / 1000 })).sort((a, b) => b.ms - a.ms),
  };
}
