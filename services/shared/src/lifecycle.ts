// Process lifecycle for services: run until SIGTERM/SIGINT, then stop entry points in order, once.
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

/** Logs and exits non-zero when start-up fails (bad config, unreachable database). */
export function exitOnStartFailure(log: Logger) {
  return (err: unknown) => {
    log.fatal({ err }, 'failed to start');
    process.exit(1);
  };
}

/** A service's main: start it with its logger, stop it on SIGTERM/SIGINT, exit non-zero if it cannot start. */
export async function runMain(log: Logger, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  try {
    const service = await start();
    stopOnSignals(log, () => service.stop());
  } catch (err) {
    exitOnStartFailure(log)(err);
  }
}
