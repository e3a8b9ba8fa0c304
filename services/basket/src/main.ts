import { createLogger, runMain } from '@qtshop/shared';
import { loadBasketConfig } from './config';
import { startBasket } from './service';

const log = createLogger('basket');
await runMain(log, () => startBasket(loadBasketConfig(), log));
