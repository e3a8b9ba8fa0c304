import { createLogger, exitOnStartFailure, stopOnSignals } from '@qtshop/shared';
import { loadInventoryConfig } from './config';
import { startInventory } from './service';

const log = createLogger('inventory');
try {
  const service = await startInventory(loadInventoryConfig(), log);
  stopOnSignals(log, () => service.stop());
} catch (err) {
  exitOnStartFailure(log)(err);
}
