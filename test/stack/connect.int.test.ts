import { loadInfra } from '@qtshop/shared/infra';
import { ConnectClient } from '@qtshop/shared/delivery';
import { DEBEZIUM_CONNECTOR, EVENT_ROUTER } from '@qtshop/shared/tooling';

const infra = loadInfra();

describe('the stack Kafka Connect worker', () => {
  it('lists the Debezium PostgreSQL connector and the outbox EventRouter transform', async () => {
    const plugins = await ConnectClient.of(infra.connect).plugins();
    const classes = plugins.map((p) => p.class);
    expect(classes).toContain(DEBEZIUM_CONNECTOR);
    expect(classes).toContain(EVENT_ROUTER);
    expect(plugins.find((p) => p.class === DEBEZIUM_CONNECTOR)?.version).toMatch(/^3\.3\./);
  });
});
