import { createLogger, runMain } from '@qtshop/shared';
import { loadInventoryConfig } from './config';
import { startInventory } from './service';

const log = createLogger('inventory');
await runMain(log, () => startInventory(loadInventoryConfig(), log));
