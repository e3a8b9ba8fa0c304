import { ConnectClient, loadInfra } from '@qtshop/shared';

const infra = loadInfra();

describe('the stack Kafka Connect worker', () => {
  it('lists the Debezium PostgreSQL connector and the outbox EventRouter transform', async () => {
    const plugins = await new ConnectClient(infra.connect.url).plugins();
    const classes = plugins.map((p) => p.class);
    expect(classes).toContain('io.debezium.connector.postgresql.PostgresConnector');
    expect(classes).toContain('io.debezium.transforms.outbox.EventRouter');
    expect(plugins.find((p) => p.class === 'io.debezium.connector.postgresql.PostgresConnector')?.version).toMatch(/^3\.3\./);
  });
});
