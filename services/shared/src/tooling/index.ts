// Operator tooling: what the scripts, the stack, the benchmarks, the migrations and the tests use and no
// service needs at runtime. Services import '@qtshop/shared' only; test/shared/tooling-boundary.unit.test.ts
// fails if a file under services/*/src imports this entry.
export * from './connect-plugins';
export * from './connector-files';
export * from './dlq';
export * from './inbox-table';
export * from './kafka-access';
export * from './migrate';
export * from './outbox-table';
export * from './pg-grants';
export * from './pipeline-status';
export * from './read-to-end';
export * from './services';
export * from './settings-table';
export * from './status-report';
export * from './text-table';
export * from './compatibility';
export * from './event-contracts';
export * from './pg-nodes';
