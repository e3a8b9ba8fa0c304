// Process lifecycle: entry points of scripts and services; a service runs until SIGTERM/SIGINT, then stops
// its entry points in order, once.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logging';

export function stopOnSignals(log: Logger, stop: () => Promise<void>, timeoutMs = 15_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
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

/** A service's entry point: start it with its logger, stop it on SIGTERM/SIGINT, exit non-zero if it cannot start. */
export function runService(moduleUrl: string, log: Logger, start: () => Promise<{ stop(): Promise<void> }>): void {
  runAsScript(
    moduleUrl,
    'service',
    async () => {
      const service = await start();
      stopOnSignals(log, () => service.stop());
    },
    { report: (err) => log.fatal({ err }, 'failed to start') },
  );
}
