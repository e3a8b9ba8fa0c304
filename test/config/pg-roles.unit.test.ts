// Who each process is to PostgreSQL (infra/pg-roles.ts): every service and the relay default to a role of
// their own, the tools to the superuser; with NODE_ENV=production a development password is refused.
import { ConfigError } from '@qtshop/shared/platform';
import { infraFrom, loadInfra, PG_SERVICE_ROLES, pgDevPassword } from '@qtshop/shared/infra';
import { DATABASE_ACCESS } from '@qtshop/shared/tooling';
import { loadBasketConfig } from '../../services/basket/src/config';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { loadOrderCommandConfig } from '../../services/order-command/src/config';
import { loadOrderQueryConfig } from '../../services/order-query/src/config';
import { loadRelayConfig } from '../../services/relay/src/config';

const loaders = {
  catalog: loadCatalogConfig,
  inventory: loadInventoryConfig,
  order_command: loadOrderCommandConfig,
  order_query: loadOrderQueryConfig,
  relay: loadRelayConfig,
};
/** What production needs besides PostgreSQL's password, so that only PG_PASSWORD can be refused. */
const PRODUCTION = {
  NODE_ENV: 'production',
  ADMIN_TOKEN: 'an-operator-secret-of-32-characters',
  AUTH_JWT_SECRET: 'a-jwt-secret-of-the-operator-32-bytes!',
  KAFKA_PASSWORD: 'a-kafka-secret',
  CONNECT_PASSWORD: 'a-connect-secret',
};

describe('PostgreSQL roles of the processes', () => {
  it.each(Object.entries(loaders))('%s logs in as its own role, with its development password outside production', (role, load) => {
    const pg = infraFrom(load({})).pg;
    expect(pg).toMatchObject({ user: role, password: `${role}-dev-password` });
  });

  it('gives each database with an owner the role of the service whose database it is, and only those roles', () => {
    expect(Object.values(DATABASE_ACCESS).map((a) => a.owner)).toEqual([...PG_SERVICE_ROLES]);
    expect(loadCatalogConfig({}).CATALOG_DB).toBe('catalog');
    expect(Object.entries(DATABASE_ACCESS).find(([, a]) => a.owner === 'order_command')?.[0]).toBe(loadOrderCommandConfig({}).ORDER_COMMAND_DB);
    expect(Object.entries(DATABASE_ACCESS).find(([, a]) => a.owner === 'order_query')?.[0]).toBe(loadOrderQueryConfig({}).ORDER_QUERY_DB);
    expect(Object.entries(DATABASE_ACCESS).find(([, a]) => a.owner === 'inventory')?.[0]).toBe(loadInventoryConfig({}).INVENTORY_DB);
    // The relay's default outbox databases are exactly those whose outbox the relay and Debezium are granted.
    expect(
      Object.entries(DATABASE_ACCESS)
        .filter(([, a]) => a.outbox)
        .map(([db]) => db),
    ).toEqual(loadRelayConfig({}).OUTBOX_DATABASES);
  });

  it('lets the tools log in as the superuser `postgres`, whose local-stack password is `postgres`', () => {
    expect(loadInfra({}).pg).toMatchObject({ user: 'postgres', password: 'postgres' });
    expect(pgDevPassword('postgres')).toBe('postgres');
    expect(loadInfra({ PG_USER: 'relay' }).pg).toMatchObject({ user: 'relay', password: 'relay-dev-password' });
    expect(loadInfra({ PG_PASSWORD: 's3cret' }).pg.password).toBe('s3cret');
  });

  it.each(Object.entries(loaders))('%s, in production, refuses PG_PASSWORD unset, naming it', (_role, load) => {
    expect(() => load(PRODUCTION)).toThrow(ConfigError);
    expect(() => load(PRODUCTION)).toThrow(/PG_PASSWORD: is the development default/);
  });

  it.each(Object.entries(loaders))("%s, in production, refuses its role's development password, and the superuser's", (role, load) => {
    expect(() => load({ ...PRODUCTION, PG_PASSWORD: `${role}-dev-password` })).toThrow(
      new RegExp(`PG_PASSWORD: is the development password of ${role}.*\\(NODE_ENV=production refuses it\\)$`),
    );
    expect(() => load({ ...PRODUCTION, PG_USER: 'postgres', PG_PASSWORD: 'postgres' })).toThrow(/PG_PASSWORD: is the development password of postgres/);
    // Another role's development password is no development password of this one: refused only as what it is.
    expect(infraFrom(load({ ...PRODUCTION, PG_PASSWORD: 'an-operator-pg-secret' })).pg).toMatchObject({ user: role, password: 'an-operator-pg-secret' });
  });

  it('refuses, in production, the tools logging in with a development password; a secret of the operator is taken', () => {
    expect(() => loadInfra(PRODUCTION)).toThrow(/PG_PASSWORD: is the development password of postgres/);
    expect(() => loadInfra({ ...PRODUCTION, PG_PASSWORD: 'postgres' })).toThrow(/PG_PASSWORD: is the development password of postgres/);
    expect(() => loadInfra({ ...PRODUCTION, PG_USER: 'catalog' })).toThrow(/PG_PASSWORD: is the development password of catalog/);
    expect(loadInfra({ ...PRODUCTION, PG_PASSWORD: 'an-operator-pg-secret' }).pg).toMatchObject({ user: 'postgres', password: 'an-operator-pg-secret' });
  });

  it('leaves the basket service (MongoDB) alone: no PostgreSQL password to give in production', () => {
    expect(() => loadBasketConfig(PRODUCTION)).not.toThrow();
  });
});
