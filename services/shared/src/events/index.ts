// Events: the registry (schemas, topics), the version rule, the Kafka record of an outbox row.
export * from './registry';
export * from './versions';
export * from './record';
