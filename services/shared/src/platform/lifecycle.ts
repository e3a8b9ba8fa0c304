// Process lifecycle: entry points of scripts and services; a service runs until SIGTERM/SIGINT, then drains
// its HTTP server and stops its entry points in order, once.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logging';

/** How an HTTP service stops on a signal (httpShutdown: HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS). */
export interface ShutdownTiming {
  /** The drain before the server stops accepting (/ready 503, Connection: close). */
  drainDelayMs: number;
  /** How long requests in flight may take to finish once it stopped accepting. */
  graceMs: number;
}

/**
 * What a stop may take once the HTTP server is closed: consumers finish the message in hand and commit it,
 * the pruner its run, pools close, buffered spans are exported: the 5 s that the former fixed 15 s timeout
 * left after the default 10 s grace.
 */
export const STOP_AFTER_HTTP_MS = 5_000;

/**
 * How long a signalled stop may take before the process gives up and exits 1: the drain, the grace of the
 * requests in flight, then STOP_AFTER_HTTP_MS (20 s with the defaults). Whatever stops a service from
 * outside (docker compose's stop_grace_period, npm start) waits longer than this before it kills.
 */
export const stopTimeoutMs = (t: ShutdownTiming): number => t.drainDelayMs + t.graceMs + STOP_AFTER_HTTP_MS;

export function stopOnSignals(log: Logger, stop: () => Promise<void>, timeoutMs: number): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, timeoutMs }, 'stopping');
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'graceful stop timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** True when the module at `moduleUrl` is the script node was started with, not a module it imported. */
export function isEntryPoint(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (!argv1) return false;
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  return real(fileURLToPath(moduleUrl)) === real(resolve(argv1));
}

export interface ScriptOptions {
  /** Reports a failure of `main` (default: "<what> failed: <stack>" on stderr). */
  report?: (err: unknown) => void;
  /** The exit code after a failure (default 1). */
  failureCode?: number;
}

/**
 * The one way to write an entry point (scripts, the stack CLI, benchmarks, services): when `moduleUrl` (the
 * caller's import.meta.url) is the script node was started with, runs `main` with the command-line arguments.
 * A number it resolves with is the exit code; nothing leaves the process to end by itself (a service keeps
 * serving until a signal). A failure is reported and exits with `failureCode`. Imported, it does nothing.
 */
export function runAsScript(moduleUrl: string, what: string, main: (argv: string[]) => Promise<number | void>, opts: ScriptOptions = {}): void {
  if (!isEntryPoint(moduleUrl)) return;
  const report =
    opts.report ?? ((err: unknown) => process.stderr.write(`\n${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
  main(process.argv.slice(2)).then(
    (code) => {
      if (typeof code === 'number') process.exit(code);
    },
    (err: unknown) => {
      report(err);
      process.exit(opts.failureCode ?? 1);
    },
  );
}

/** What runService runs: a service (startService) or the relay. */
export interface Stoppable {
  /** Its shutdown timing, which bounds how long drain() and stop() may take (stopTimeoutMs). */
  readonly shutdown: ShutdownTiming;
  /** The drain of its HTTP server before stop() (HttpApp.drain): on a signal only, a test's stop skips it. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A service's entry point: start it with its logger; on SIGTERM/SIGINT drain it, stop it, exit 0 (1 past
 * stopTimeoutMs); exit non-zero if it cannot start.
 */
export function runService(moduleUrl: string, log: Logger, start: () => Promise<Stoppable>): void {
  runAsScript(
    moduleUrl,
    'service',
    async () => {
      const service = await start();
      stopOnSignals(
        log,
        async () => {
          await service.drain();
          await service.stop();
        },
        stopTimeoutMs(service.shutdown),
      );
    },
    { report: (err) => log.fatal({ err }, 'failed to start') },
  );
}
