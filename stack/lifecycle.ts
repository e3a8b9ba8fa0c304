// Running the stack's members: whether each is up, starting one and waiting for its readiness, starting
// them all in dependency order, stopping them in reverse. The CLI (cli.ts) and the failover commands
// (pg-failover.ts) use it.
import { components, dependenciesOf, logFile, pidFile, strayMembers, type Component } from './components';
import { GiveUp, waitUntil } from '@qtshop/shared/platform';
import { describePgNodes, formatTable, inspectPgNodes, judgePgNodes } from '@qtshop/shared/tooling';
import { fencedReason } from './components/pg-standby';
import type { StackConfig } from './config';
import { livePid, portInUse, removeFile, stopPid, tailFile } from './procs';
import { isResolved, resolveArtifacts } from './resolve';

const t0 = Date.now();
export const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
export const say = (msg: string) => process.stdout.write(`[stack +${elapsed()}] ${msg}\n`);

export class StackError extends Error {}

export function pidOf(cfg: StackConfig, c: Component): number | undefined {
  return livePid(pidFile(cfg, c.name), c.marker(cfg));
}

export async function isUp(cfg: StackConfig, c: Component): Promise<boolean> {
  if (pidOf(cfg, c) === undefined) return false;
  try {
    return await c.ready(cfg);
  } catch {
    return false;
  }
}

export async function startOne(cfg: StackConfig, c: Component, started: Component[]): Promise<void> {
  const held = c.heldBack?.(cfg);
  if (held !== undefined && pidOf(cfg, c) === undefined) {
    say(`${c.name}: not started: ${held}`);
    return;
  }
  if (pidOf(cfg, c) !== undefined) {
    say(`${c.name}: already running (pid ${pidOf(cfg, c)}), waiting for readiness`);
  } else {
    for (const port of c.ports(cfg)) {
      if (await portInUse(port)) {
        throw new StackError(
          `${c.name}: port ${port} is already in use by another process; free it or set the port's environment variable (see docs/configuration.md)`,
        );
      }
    }
    const pid = await c.start(cfg, say);
    started.push(c);
    say(`${c.name}: started (pid ${pid}, port ${c.ports(cfg).join('/')}), waiting for readiness`);
  }
  const pid = pidOf(cfg, c);
  const ok = await waitUntil(
    async () => {
      if (pid !== undefined && pidOf(cfg, c) === undefined) throw new GiveUp('exited');
      return c.ready(cfg);
    },
    { timeoutMs: cfg.readyTimeoutMs, everyMs: 500, what: `${c.name} to be ready` },
  ).catch(() => false);
  if (!ok) {
    const exited = pidOf(cfg, c) === undefined;
    throw new StackError(
      `${c.name}: ${exited ? 'exited before it became ready' : `not ready after ${cfg.readyTimeoutMs} ms`}; last lines of ${logFile(cfg, c.name)}:\n${tailFile(logFile(cfg, c.name), 30)}`,
    );
  }
  await c.afterReady?.(cfg, say);
  say(`${c.name}: ready`);
}

/** Starts the stack, or only PostgreSQL (its nodes and proxy) when `only` is 'postgres'. */
export async function up(cfg: StackConfig, only?: 'postgres'): Promise<void> {
  const all = components(cfg).filter((c) => !only || c.kind === 'postgres' || c.kind === 'pg-proxy');
  const states = await Promise.all(all.map(async (c) => (await isUp(cfg, c)) || c.heldBack?.(cfg) !== undefined));
  if (states.every(Boolean)) {
    // Still run the idempotent post-ready steps (e.g. databases) so an `up` always leaves a complete stack.
    for (const c of all) {
      const held = c.heldBack?.(cfg);
      if (held !== undefined && pidOf(cfg, c) === undefined) say(`${c.name}: not started: ${held}`);
      else await c.afterReady?.(cfg, say);
    }
    say('everything is already up; nothing to do');
    return;
  }
  if (only) {
    // PostgreSQL needs no jars.
  } else if (!isResolved(cfg)) {
    say(`resolving Kafka, Connect, Debezium and mongo-java-server with Maven into ${cfg.paths.lib} (first run only)`);
    await resolveArtifacts(cfg, say);
  } else {
    say('jars already resolved');
  }
  await restartReshaped(cfg, all);
  const started: Component[] = [];
  try {
    // Independent components start together; a dependent one waits for what it needs.
    const done = new Map<string, Promise<void>>();
    for (const c of all) {
      const before = dependenciesOf(cfg, c, all).map((d) => done.get(d.name)!);
      done.set(
        c.name,
        Promise.all(before).then(() => startOne(cfg, c, started)),
      );
    }
    const results = await Promise.allSettled(done.values());
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    if (started.length) {
      say(`stopping what this run started: ${started.map((c) => c.name).join(', ')}`);
      await stopComponents(cfg, started);
    }
    throw err;
  }
  say(`stack is up in ${elapsed()}`);
  await printStatus(cfg, all, await Promise.all(all.map((c) => isUp(cfg, c))));
}

/**
 * Members running in another shape of the stack (PostgreSQL before or after STACK_PG_STANDBY changed: on
 * another port, or a standby and proxy the settings no longer name) are stopped, so that `up` starts them
 * in this one. Their data stays.
 */
async function restartReshaped(cfg: StackConfig, all: Component[]): Promise<void> {
  for (const c of all) {
    const any = c.reshaped && livePid(pidFile(cfg, c.name), c.reshaped(cfg));
    if (any && pidOf(cfg, c) === undefined) {
      say(`${c.name}: running in another shape of the stack (pid ${any}); restarting it in this one`);
      await stopPid(any, c.stopSignal, 60_000);
      removeFile(pidFile(cfg, c.name));
    }
  }
  for (const c of strayMembers(cfg).filter((x) => x.kind === 'postgres' || x.kind === 'pg-proxy')) {
    const pid = livePid(pidFile(cfg, c.name), c.reshaped?.(cfg) ?? c.marker(cfg));
    if (pid === undefined) continue;
    say(`${c.name}: not part of this shape of the stack (STACK_PG_STANDBY); stopping it`);
    await stopPid(pid, c.stopSignal, 60_000);
    removeFile(pidFile(cfg, c.name));
  }
}

export async function stopOne(cfg: StackConfig, c: Component): Promise<void> {
  const pid = pidOf(cfg, c);
  if (pid === undefined) {
    removeFile(pidFile(cfg, c.name));
    return;
  }
  const how = await stopPid(pid, c.stopSignal, 60_000);
  removeFile(pidFile(cfg, c.name));
  say(`${c.name}: ${how} (pid ${pid})`);
}

export async function stopComponents(cfg: StackConfig, list: Component[]): Promise<void> {
  // Reverse start order: Connect before Kafka, so it can commit offsets. Members of one kind stop together:
  // brokers stopped one by one would leave the last ones without a controller quorum to shut down through.
  const kinds = [...new Set([...list].reverse().map((c) => c.kind))];
  for (const kind of kinds) await Promise.all(list.filter((c) => c.kind === kind).map((c) => stopOne(cfg, c)));
}

export async function printStatus(cfg: StackConfig, members: Component[], up: boolean[]): Promise<void> {
  const rows = members.map((c, i) => [c.name, c.ports(cfg).join('/'), String(pidOf(cfg, c) ?? '-'), up[i] ? 'up' : 'down']);
  for (const line of formatTable([['component', 'port', 'pid', 'state'], ...rows])) process.stdout.write(line + '\n');
  if (!cfg.infra.pg.nodes.length) return;
  const nodes = await inspectPgNodes(cfg.infra);
  const rows2 = describePgNodes(nodes).map((r, i) => (fencedReason(cfg, nodes[i]!.id) ? [...r.slice(0, 2), 'fenced', ...r.slice(3)] : r));
  process.stdout.write('\n');
  for (const line of formatTable([['postgres', 'port', 'role', 'replication', 'logical slots'], ...rows2])) process.stdout.write(line + '\n');
  for (const [level, msg] of judgePgNodes(nodes)) process.stdout.write(`${level}: ${msg}\n`);
}
