// Messaging: consuming events (the runner, decoding, dead letters, retries) and the inbox that applies each at most once.
export * from './consumer/settings';
export * from './consumer/event';
export * from './consumer/decode';
export { DLQ_HEADERS, dlqTopicOf, redriveGroupOf, type DlqReason } from './consumer/dead-letter';
export { eventAttributes, kafkaHeaderGetter } from './consumer/telemetry';
export * from './consumer/membership';
export * from './consumer/runner';
export * from './inbox/inbox';
export * from './inbox/pg';
export * from './inbox/mongo';
export * from './inbox/retention';
