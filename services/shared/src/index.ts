export * from './config';
export * from './infra';
export * from './logging';
