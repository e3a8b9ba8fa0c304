// What every member of the local stack is (the Component shape), where its log and pid file live, the
// spawn spec its process starts from, and the error a member raises for a problem the user must fix.
import { resolve } from 'node:path';
import { repoRoot, type StackConfig } from '../config';
import type { SpawnSpec } from '../procs';

export type ComponentKind = 'postgres' | 'pg-proxy' | 'kafka' | 'connect' | 'mongo';

/** A member of the stack: a process with a pid file, a log and ports (`kafka-2`, `connect-1`, or `kafka` alone). */
export interface Component {
  name: string;
  kind: ComponentKind;
  ports: (cfg: StackConfig) => number[];
  /** A string that appears in the process command line, to tell our process from a reused pid. */
  marker: (cfg: StackConfig) => string;
  stopSignal: NodeJS.Signals;
  /** Writes config, initialises data when missing, starts the process; returns its pid. */
  start: (cfg: StackConfig, progress: (msg: string) => void) => Promise<number>;
  /** One readiness probe; true when the component does real work (a query, metadata, a plugin list, a ping). */
  ready: (cfg: StackConfig) => Promise<boolean>;
  /** What the command line of this member's process holds whatever the stack's shape: a process that has it but not `marker` runs in another shape, and `up` restarts it. */
  reshaped?: (cfg: StackConfig) => string;
  /** Names of members that must be ready before this one starts (besides its kind's: a Connect worker waits for every broker). */
  dependsOn?: (cfg: StackConfig) => string[];
  /** Why this member must not be started now (it is left down, and `up` says so), if it must not. */
  heldBack?: (cfg: StackConfig) => string | undefined;
  /** Work to do once ready (e.g. create databases). */
  afterReady?: (cfg: StackConfig, progress: (msg: string) => void) => Promise<void>;
}

export const logFile = (cfg: StackConfig, name: string) => resolve(cfg.paths.logs, `${name}.log`);
export const pidFile = (cfg: StackConfig, name: string) => resolve(cfg.paths.run, `${name}.pid`);

/** The spawn spec of a member: its log and pid file by name, run from the repository root. */
export function spec(cfg: StackConfig, name: string, cmd: string, args: string[], extra: Partial<SpawnSpec> = {}): SpawnSpec {
  return { cmd, args, logFile: logFile(cfg, name), pidFile: pidFile(cfg, name), cwd: repoRoot, ...extra };
}

/** A configuration problem of the stack the user must act on (the message says how). */
export class StackMemberError extends Error {}
