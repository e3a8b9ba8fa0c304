// Messaging: consuming events (the runner, decoding, dead letters, retries) and the inbox that applies each at most once.
export * from './consumer/consumer';
export * from './consumer/runner';
export * from './inbox/mongo';
export * from './inbox/retention';
