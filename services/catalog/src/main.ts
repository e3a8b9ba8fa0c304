import { createLogger, exitOnStartFailure, stopOnSignals } from '@qtshop/shared';
import { loadCatalogConfig } from './config';
import { startCatalog } from './service';

const log = createLogger('catalog');
try {
  const service = await startCatalog(loadCatalogConfig(), log);
  stopOnSignals(log, () => service.stop());
} catch (err) {
  exitOnStartFailure(log)(err);
}
