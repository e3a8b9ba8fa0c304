import { createLogger, runService } from '@qtshop/shared/platform';
import { loadCatalogConfig } from './config';
import { startCatalog } from './service';

const log = createLogger('catalog');
runService(import.meta.url, log, () => startCatalog(loadCatalogConfig(), log));
