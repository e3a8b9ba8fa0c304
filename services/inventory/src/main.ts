import { createLogger, runService } from '@qtshop/shared/platform';
import { loadInventoryConfig } from './config';
import { startInventory } from './service';

const log = createLogger('inventory');
runService(import.meta.url, log, () => startInventory(loadInventoryConfig(), log));
