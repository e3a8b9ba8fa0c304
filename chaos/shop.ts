// The shop under test: `npm start`'s launcher run as a child (it brings the stack up, registers the
// connectors and restarts a service that dies), and the processes a fault hits, found through the pid
// files the launcher and the stack write.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { GiveUp, loadConfig, waitUntil } from '@qtshop/shared/platform';
import { portSettingOf, SHOP_SERVICES, type ShopService } from '@qtshop/shared/tooling';
import { SERVICE_SETTINGS } from '../scripts/service-settings';
import { instancesOf, shopSettings } from '../scripts/shop';
import { components, pidFile, type ComponentKind } from '../stack/components';
import { addressEnv, withoutIdentity } from '@qtshop/shared/infra';
import { loadStackConfig, repoRoot } from '../stack/config';
import { isAlive, livePid, portInUse, stopPid } from '../stack/procs';

/** A member of the local stack by name: postgres, mongo, kafka or kafka-1…n in a cluster, connect or connect-1…n. */
export type StackComponent = string;

const stack = loadStackConfig();
const tsx = (script: string, args: string[] = []) => [process.execPath, ['--import', 'tsx', resolve(repoRoot, script), ...args]] as const;

/** The pid of a service npm start runs, from its pid file, when that process is still that service. */
export const servicePid = (s: ShopService) => instancePid(s, 1);
/** The pid of instance n of a service (npm start -- --replicas: inventory-2, …), likewise. */
export const instancePid = (s: ShopService, n: number) =>
  livePid(resolve(stack.paths.run, `shop-${n === 1 ? s : `${s}-${n}`}.pid`), resolve(repoRoot, 'services', s, 'src/main.ts'));
/** Where each instance of a service listens, as npm start places them (SHOP_REPLICAS, SHOP_REPLICA_PORT_STEP). */
export const instanceUrls = (s: ShopService): string[] => {
  const shop = loadConfig(shopSettings);
  return instancesOf(shop.SHOP_REPLICAS, shop.SHOP_REPLICA_PORT_STEP)
    .filter((i) => i.service === s)
    .map((i) => `http://127.0.0.1:${i.port}`);
};
/** The pid of a member of the local stack, likewise (a kind alone, e.g. 'kafka', names its first member). */
export const componentPid = (c: StackComponent) => {
  const member = components(stack).find((x) => x.name === c) ?? components(stack).find((x) => x.kind === c);
  return member && livePid(pidFile(stack, member.name), member.marker(stack));
};
/** The names of the local stack's members of one kind (kafka-1, kafka-2, …; or kafka alone). */
export const membersOf = (kind: ComponentKind): string[] =>
  components(stack)
    .filter((x) => x.kind === kind)
    .map((x) => x.name);

/** Runs a repository script to its end; resolves with its exit code and output. */
export function runScript(script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; output: string }> {
  const [cmd, argv] = tsx(script, args);
  return new Promise((done) => {
    const child = spawn(cmd, argv, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('close', (code) => done({ code: code ?? 1, output }));
  });
}

/** Starts whatever part of the local stack is down and waits until it is ready. */
export async function stackUp(): Promise<void> {
  const r = await runScript('stack/cli.ts', ['up']);
  if (r.code !== 0) throw new Error(`npm run stack -- up failed:\n${r.output.slice(-2000)}`);
}

/** Where a service of npm start listens (its port setting, as npm start reads it). */
const urls = new Map<ShopService, string>();
export const serviceUrl = (s: ShopService): string => {
  if (!urls.has(s)) urls.set(s, `http://127.0.0.1:${String(loadConfig(SERVICE_SETTINGS[s])[portSettingOf(s)])}`);
  return urls.get(s)!;
};

async function ready(s: ShopService): Promise<boolean> {
  try {
    return (await fetch(`${serviceUrl(s)}/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Waits until every service answers /ready with 200. */
export async function waitReady(timeoutMs: number, services: readonly ShopService[] = SHOP_SERVICES): Promise<void> {
  await waitUntil(async () => (await Promise.all(services.map(ready))).every(Boolean), { timeoutMs, everyMs: 250, what: `${services.join(', ')} /ready` });
}

/** `npm start` in a child process, with extra environment (the relay mode, thresholds). */
export class Launcher {
  private child: ChildProcess | undefined;
  output = '';

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async start(timeoutMs: number): Promise<void> {
    const [cmd, argv] = tsx('scripts/shop.ts');
    const child = spawn(cmd, argv, { cwd: repoRoot, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // Kept for the checks below, and in a log beside the services' (what npm start said when a run goes wrong).
    mkdirSync(stack.paths.logs, { recursive: true }); // a stack never started yet has none
    const log = createWriteStream(resolve(stack.paths.logs, 'chaos-launcher.log'), { flags: 'a' });
    const keep = (b: Buffer) => {
      this.output += b.toString();
      log.write(b);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('close', (code, signal) => log.end(`[chaos] npm start exited (${signal ?? `code ${code}`})\n`));
    await waitUntil(
      async () => {
        if (this.output.includes('the shop is already running')) throw new GiveUp('a shop is already running (npm start): stop it first, chaos starts its own');
        // GiveUp: waitUntil would take any other error for "not yet" and wait out its timeout.
        if (child.exitCode !== null) throw new GiveUp(`npm start exited (${child.exitCode}):\n${this.output.slice(-3000)}`);
        return this.output.includes('the shop is up');
      },
      { timeoutMs, everyMs: 250, what: 'npm start to bring the shop up' },
    );
  }

  /** The launcher's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** How many times the launcher restarted a service so far. */
  restarts(): number {
    return this.output.split('\n').filter((l) => / restarted \(pid /.test(l)).length;
  }

  async stop(): Promise<void> {
    const pid = this.child?.pid;
    if (pid && this.child!.exitCode === null) await stopPid(pid, 'SIGINT', 60_000);
    this.child = undefined;
  }
}

/** A second polling relay, beside npm start's: it stands by and takes over when the active one dies or freezes. */
export class StandbyRelay {
  private child: ChildProcess | undefined;
  readonly url: string;

  constructor(private readonly port: number) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private env: NodeJS.ProcessEnv = {};
  private log: WriteStream | undefined;

  async restartIfDead(): Promise<void> {
    if (this.child?.pid && isAlive(this.child.pid)) return;
    await this.start(this.env);
  }

  async start(env: NodeJS.ProcessEnv): Promise<void> {
    this.env = env;
    if (await portInUse(this.port)) throw new Error(`port ${this.port} (the standby relay's) is already in use: a relay left from an earlier run?`);
    const [cmd, argv] = tsx('services/relay/src/main.ts');
    this.log?.end();
    const log = (this.log = createWriteStream(resolve(stack.paths.logs, 'relay-standby.log'), { flags: 'a' }));
    const child = spawn(cmd, argv, {
      cwd: repoRoot,
      env: { ...withoutIdentity(process.env), ...addressEnv(stack.infra), ...env, RELAY_PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new GiveUp(`the standby relay exited (${child.exitCode}); see .stack/logs/relay-standby.log`);
        return (await fetch(`${this.url}/health`).catch(() => undefined))?.ok === true;
      },
      { timeoutMs: 60_000, what: 'the standby relay' },
    );
  }

  async stop(): Promise<void> {
    const pid = this.child?.pid;
    if (pid && isAlive(pid)) {
      process.kill(pid, 'SIGCONT');
      await stopPid(pid, 'SIGTERM', 30_000);
    }
    this.child = undefined;
    this.log?.end();
    this.log = undefined;
  }
}

/** The databases whose outbox lock the relay at `url` holds (relay_active 1); none when it does not answer. */
export async function activeDatabases(url: string): Promise<string[]> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    return [...text.matchAll(/^relay_active\{([^}]*)\} 1$/gm)].flatMap((m) => /database="([^"]+)"/.exec(m[1]!)?.[1] ?? []);
  } catch {
    return [];
  }
}
