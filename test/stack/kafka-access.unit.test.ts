// The Kafka ACL policy (tooling/kafka-access.ts) restates what each service consumes and under which
// group: it must say what the services really do, or a service is refused its own topics (or granted
// another's). Checked here against each service's topics and settings.
import { aclEntries, kafkaGrants, SERVICE_CONSUMPTION, CONNECT_GROUP, CONNECT_TOPIC_PREFIX } from '@qtshop/shared/tooling';
import { TOPICS } from '@qtshop/shared/events';
import { KAFKA_PRINCIPALS } from '@qtshop/shared/infra';
import { BASKET_TOPICS } from '../../services/basket/src/consumers';
import { CATALOG_TOPICS } from '../../services/catalog/src/consumers';
import { INVENTORY_TOPICS } from '../../services/inventory/src/consumers';
import { ORDER_COMMAND_TOPICS } from '../../services/order-command/src/consumers';
import { ORDER_QUERY_TOPICS } from '../../services/order-query/src/consumers';
import { loadBasketConfig } from '../../services/basket/src/config';
import { loadCatalogConfig } from '../../services/catalog/src/config';
import { loadInventoryConfig } from '../../services/inventory/src/config';
import { loadOrderCommandConfig } from '../../services/order-command/src/config';
import { loadOrderQueryConfig } from '../../services/order-query/src/config';
import { loadRelayConfig } from '../../services/relay/src/config';

const services = {
  catalog: { topics: CATALOG_TOPICS, cfg: loadCatalogConfig({}), group: loadCatalogConfig({}).CATALOG_GROUP },
  inventory: { topics: INVENTORY_TOPICS, cfg: loadInventoryConfig({}), group: loadInventoryConfig({}).INVENTORY_GROUP },
  basket: { topics: BASKET_TOPICS, cfg: loadBasketConfig({}), group: loadBasketConfig({}).BASKET_GROUP },
  'order-command': { topics: ORDER_COMMAND_TOPICS, cfg: loadOrderCommandConfig({}), group: loadOrderCommandConfig({}).ORDER_COMMAND_GROUP },
  'order-query': { topics: ORDER_QUERY_TOPICS, cfg: loadOrderQueryConfig({}), group: loadOrderQueryConfig({}).ORDER_QUERY_GROUP },
};

describe('the Kafka ACL policy', () => {
  it.each(Object.entries(services))('grants %s exactly the topics it consumes, under its own group and principal', (name, s) => {
    expect(SERVICE_CONSUMPTION[name as keyof typeof SERVICE_CONSUMPTION]).toEqual({ topics: [...s.topics], group: s.group });
    expect(s.cfg.KAFKA_USERNAME).toBe(name);
  });

  it('lets a service read what it consumes and write only those topics’ dead letters', () => {
    const catalog = kafkaGrants().filter((g) => g.principal === 'catalog');
    const writable = catalog.filter((g) => g.operations.includes('write')).map((g) => `${g.resource}:${g.pattern}:${g.name}`);
    expect(writable).toEqual(['topic:literal:qtshop.inventory.dlq']);
    const readable = catalog.filter((g) => g.resource === 'topic' && g.operations.includes('read')).map((g) => g.name);
    expect(readable).toEqual(['qtshop.inventory']);
  });

  it('lets only Kafka Connect and the relay write the outbox topics', () => {
    const writers = (topic: string) =>
      kafkaGrants()
        .filter((g) => g.resource === 'topic' && g.operations.includes('write'))
        .filter((g) => (g.pattern === 'literal' ? g.name === topic : topic.startsWith(g.name)))
        .map((g) => g.principal);
    for (const topic of TOPICS) expect(new Set(writers(topic))).toEqual(new Set(['connect', 'relay']));
  });

  it("names the relay's and Connect's own groups, internal topics and transactional ids", () => {
    const relay = loadRelayConfig({});
    expect(relay.KAFKA_USERNAME).toBe('relay');
    const grants = kafkaGrants();
    const has = (principal: string, resource: string, name: string) =>
      grants.some((g) => g.principal === principal && g.resource === resource && (g.pattern === 'literal' ? g.name === name : name.startsWith(g.name)));
    expect(has('relay', 'group', relay.RELAY_CONFIRM_GROUP)).toBe(true);
    expect(has('relay', 'transactional-id', `${relay.OUTBOX_TRANSACTIONAL_ID_PREFIX}.catalog`)).toBe(true);
    expect(has('connect', 'group', CONNECT_GROUP)).toBe(true);
    expect(has('connect', 'topic', `${CONNECT_TOPIC_PREFIX}offsets`)).toBe(true);
  });

  it('grants every principal of the shop something, and the operator nothing (a super user)', () => {
    const principals = new Set(aclEntries(kafkaGrants()).map((a) => a.principal));
    expect([...principals].sort()).toEqual(
      KAFKA_PRINCIPALS.filter((p) => p !== 'operator')
        .map((p) => `User:${p}`)
        .sort(),
    );
  });
});
