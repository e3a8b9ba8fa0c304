import { createLogger, runService } from '@qtshop/shared/platform';
import { loadOrderQueryConfig } from './config';
import { startOrderQuery } from './service';

const log = createLogger('order-query');
runService(import.meta.url, log, () => startOrderQuery(loadOrderQueryConfig(), log));
