// Delivery: Kafka Connect, the connector files, outbox health and consumer lag, for the relay and the tools.
export * from './connect';
export * from './connectors';
export * from './connector-files';
export * from './connector-drift';
export * from './outbox-health';
export * from './kafka-lag';
