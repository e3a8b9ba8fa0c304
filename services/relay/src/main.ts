// Relay entry point: the polling fallback (RELAY_MODE=polling) or the Debezium-mode janitor.
import { createLogger, runService } from '@qtshop/shared/platform';
import { loadRelayConfig } from './config';
import { createRelay } from './relay';

const log = createLogger('relay');
runService(import.meta.url, log, async () => {
  const relay = createRelay(loadRelayConfig(), { log });
  await relay.start();
  return relay;
});
