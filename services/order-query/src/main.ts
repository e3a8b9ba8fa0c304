import { createLogger, runMain } from '@qtshop/shared';
import { loadOrderQueryConfig } from './config';
import { startOrderQuery } from './service';

const log = createLogger('order-query');
await runMain(log, () => startOrderQuery(loadOrderQueryConfig(), log));
