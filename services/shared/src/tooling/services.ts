// The shop's services, declared once (the README's service table says what each stores, emits and consumes):
// one folder each under services/, started by
// npm start in this order. npm start, the stack's logs command, the config table, the compose test and
// the launcher test derive their lists from it.
export const SHOP_SERVICES = ['catalog', 'inventory', 'basket', 'order-command', 'order-query', 'relay'] as const;
export type ShopService = (typeof SHOP_SERVICES)[number];

/** The setting that holds a service's HTTP port: CATALOG_PORT, ORDER_COMMAND_PORT, … */
export const portSettingOf = (service: ShopService): string => `${service.toUpperCase().replace(/-/g, '_')}_PORT`;
