// The machine a benchmark ran on, recorded with its results.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface MachineInfo {
  cores: number;
  /** 1, 5 and 15 minute load averages when the results were written. */
  loadAvg: number[];
  /**
   * Highest 1-minute load average seen during the run. It counts the benchmark and the stack themselves
   * (and processes waiting on fsync), so it says little alone; compare it between runs.
   */
  maxLoad?: number;
  memoryGiB: number;
  cpuModel: string;
  os: string;
  node: string;
  /** The code that ran: the short commit, with "+changes" when the working tree differed from it. */
  commit?: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: os.availableParallelism?.() ?? cpus.length,
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit: commitOf(),
  };
}

/** The checked-out commit (short), marked when tracked files have uncommitted changes; undefined outside git. */
export function commitOf(cwd = process.cwd()): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return changed ? `${head}+changes` : head;
  } catch {
    return undefined;
  }
}

let clkTck: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK; 100 on Linux when unknown). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU time (user + system, ms) a local process has used, from /proc; undefined when it cannot be read, or
 * when its command line does not contain `expect` (a pid from a server in a container or on another host
 * names some unrelated local process, or none).
 */
export async function processCpuMs(pid: number | undefined, expect?: string): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const { readFile } = await import('node:fs/promises');
    if (expect && !(await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(expect)) return undefined;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime (14) + stime (15)
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : undefined;
  } catch {
    return undefined;
  }
}

interface ProcStat {
  ppid: number;
  /** utime + stime, ms: the process's own CPU. */
  ownMs: number;
  /** utime + stime + cutime + cstime, ms: the process and its children it has reaped. */
  treeMs: number;
  /** Its start time (clock ticks after boot): a pid with another start time is another process. */
  startTicks: number;
}

/** Every live process's parent, start time and CPU time, from /proc/<pid>/stat. */
async function procStats(): Promise<Map<number, ProcStat>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out = new Map<number, ProcStat>();
  const ms = (ticks: number) => (ticks * 1000) / clockTicks();
  await Promise.all(
    (await readdir('/proc'))
      .filter((d) => /^\d+$/.test(d))
      .map(async (d) => {
        try {
          const stat = await readFile(`/proc/${d}/stat`, 'utf8');
          const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          // state is field 3; ppid 4; utime, stime, cutime, cstime 14-17; starttime 22.
          const own = Number(f[11]) + Number(f[12]);
          out.set(Number(d), { ppid: Number(f[1]), ownMs: ms(own), treeMs: ms(own + Number(f[13]) + Number(f[14])), startTicks: Number(f[19]) });
        } catch {
          // gone meanwhile
        }
      }),
  );
  return out;
}

const childrenOf = (stats: Map<number, ProcStat>) => {
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  return children;
};

const treeOf = (stats: Map<number, ProcStat>, children: Map<number, number[]>) => {
  const tree = (pid: number): number => (stats.get(pid)?.treeMs ?? 0) + (children.get(pid) ?? []).reduce((sum, c) => sum + tree(c), 0);
  return tree;
};

/**
 * CPU time (ms) of each named process with all its descendants: a live process counts its own time and its
 * reaped children's (cutime, cstime), so a PostgreSQL backend that exited still counts, in the postmaster.
 * A name whose pid is undefined or not alive is left out.
 */
export async function processTreeCpuMs(roots: Record<string, number | undefined>): Promise<Record<string, number>> {
  const stats = await procStats();
  const tree = treeOf(stats, childrenOf(stats));
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(roots)) if (pid && stats.has(pid)) out[name] = tree(pid);
  return out;
}

/** A live child process: its own CPU (utime + stime, ms) and its start time (clock ticks after boot). */
export interface ChildCpu {
  pid: number;
  startTicks: number;
  ownMs: number;
}

/**
 * The live children of `parent` (e.g. a postmaster's backends) with their own CPU, and the CPU of the whole
 * tree as processTreeCpuMs counts it; undefined when `parent` is not alive.
 */
export async function childProcessesCpu(parent: number): Promise<{ children: ChildCpu[]; treeMs: number } | undefined> {
  const stats = await procStats();
  if (!stats.has(parent)) return undefined;
  const children = childrenOf(stats);
  return {
    children: (children.get(parent) ?? []).map((pid) => ({ pid, startTicks: stats.get(pid)!.startTicks, ownMs: stats.get(pid)!.ownMs })),
    treeMs: treeOf(stats, children)(parent),
  };
}

/** A process's command line as it shows in ps (a PostgreSQL backend's title: "postgres: checkpointer"); '' when gone. */
export async function processTitle(pid: number): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (c) => c.replace(/\0+$/, '').replaceAll('\0', ' ').trim(),
    () => '',
  );
}

/** Keeps the highest 1-minute load average seen while a benchmark runs (sampled every 5 s). */
export class LoadWatch {
  max = os.loadavg()[0] ?? 0;
  private readonly timer = setInterval(() => this.sample(), 5000);
  constructor() {
    this.timer.unref();
  }
  sample(): void {
    this.max = Math.max(this.max, os.loadavg()[0] ?? 0);
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.max;
  }
}
