// Each shop service's settings object, keyed by the shared service list: a service missing here, or one
// the list does not name, does not compile. npm start, the config table and the compose test read it.
import type { Settings } from '@qtshop/shared/platform';
import type { ShopService } from '@qtshop/shared/tooling';
import { basketSettings } from '../services/basket/src/config';
import { catalogSettings } from '../services/catalog/src/config';
import { inventorySettings } from '../services/inventory/src/config';
import { orderCommandSettings } from '../services/order-command/src/config';
import { orderQuerySettings } from '../services/order-query/src/config';
import { relaySettings } from '../services/relay/src/config';

export const SERVICE_SETTINGS: Record<ShopService, Settings> = {
  catalog: catalogSettings,
  inventory: inventorySettings,
  basket: basketSettings,
  'order-command': orderCommandSettings,
  'order-query': orderQuerySettings,
  relay: relaySettings,
};
