// Events: the registry (schemas, topics) and the version rule every consumer applies.
export * from './registry';
export * from './versions';
