// Relay entry point: the polling fallback (RELAY_MODE=polling) or the Debezium-mode janitor.
import { createLogger, exitOnStartFailure, stopOnSignals } from '@qtshop/shared';
import { loadRelayConfig } from './config';
import { createRelay } from './relay';

const log = createLogger('relay');

async function main(): Promise<void> {
  const relay = createRelay(loadRelayConfig(), { log });
  await relay.start();
  stopOnSignals(log, () => relay.stop());
}

main().catch(exitOnStartFailure(log));
