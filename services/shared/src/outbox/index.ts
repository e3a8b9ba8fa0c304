// The outbox: writing an event in the transaction that changes the aggregate.
export * from './writer';
