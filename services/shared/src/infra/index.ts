// Infrastructure: where PostgreSQL, Kafka, Kafka Connect and MongoDB are and their time bounds, the clients, and which of their failures are transient.
export * from './addresses';
export * from './db';
export * from './kafka';
export * from './credentials';
export * from './kafkajs-patch';
export * from './pg-roles';
export * from './transient';
