import { createLogger, runService } from '@qtshop/shared/platform';
import { loadBasketConfig } from './config';
import { startBasket } from './service';

const log = createLogger('basket');
runService(import.meta.url, log, () => startBasket(loadBasketConfig(), log));
