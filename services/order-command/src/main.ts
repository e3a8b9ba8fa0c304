import { createLogger, runService } from '@qtshop/shared/platform';
import { loadOrderCommandConfig } from './config';
import { startOrderCommand } from './service';

const log = createLogger('order-command');
runService(import.meta.url, log, () => startOrderCommand(loadOrderCommandConfig(), log));
