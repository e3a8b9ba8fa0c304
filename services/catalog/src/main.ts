import { createLogger, runMain } from '@qtshop/shared';
import { loadCatalogConfig } from './config';
import { startCatalog } from './service';

const log = createLogger('catalog');
await runMain(log, () => startCatalog(loadCatalogConfig(), log));
