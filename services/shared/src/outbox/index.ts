// The outbox: writing an event in the transaction that changes the aggregate, and the Kafka record of an outbox row.
export * from './errors';
export * from './writer';
export * from './record';
