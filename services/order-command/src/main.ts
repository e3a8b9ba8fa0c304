import { createLogger, runMain } from '@qtshop/shared';
import { loadOrderCommandConfig } from './config';
import { startOrderCommand } from './service';

const log = createLogger('order-command');
await runMain(log, () => startOrderCommand(loadOrderCommandConfig(), log));
