// HTTP_HOST decides which addresses a service answers on. Loopback (the default, for npm start) answers
// 127.0.0.1 only; 0.0.0.0 (what compose sets) answers every address, like the one Docker forwards a
// published port to. 127.0.0.2 stands in for such an address: it routes to this machine, yet a server
// bound to 127.0.0.1 does not accept on it.
import { createLogger } from '@qtshop/shared/platform';
import { loadBasketConfig } from '../../services/basket/src/config';
import { startBasket } from '../../services/basket/src/service';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { startCatalog } from '../../services/catalog/src/service';
import { migrateAll } from '../../scripts/migrate';

const quiet = createLogger('bind-host-test', 'silent');

async function answers(host: string, port: number): Promise<boolean> {
  try {
    return (await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(5000) })).ok;
  } catch {
    return false;
  }
}

const starters = {
  catalog: (HTTP_HOST?: string) => startCatalog(loadCatalogConfig({ ...process.env, ...(HTTP_HOST ? { HTTP_HOST } : {}) }), quiet, 0),
  basket: (HTTP_HOST?: string) => startBasket(loadBasketConfig({ ...process.env, ...(HTTP_HOST ? { HTTP_HOST } : {}) }), quiet, 0),
};

beforeAll(() => migrateAll(['catalog']), 60_000);

describe.each(Object.entries(starters))('%s HTTP_HOST', (_name, start) => {
  it('answers on loopback only by default', async () => {
    const svc = await start();
    try {
      expect(await answers('127.0.0.1', svc.port)).toBe(true);
      expect(await answers('127.0.0.2', svc.port)).toBe(false);
    } finally {
      await svc.stop();
    }
  }, 60_000);

  it('answers on every address with HTTP_HOST=0.0.0.0', async () => {
    const svc = await start('0.0.0.0');
    try {
      expect(await answers('127.0.0.2', svc.port)).toBe(true);
    } finally {
      await svc.stop();
    }
  }, 60_000);
});
