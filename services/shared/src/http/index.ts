// HTTP: the Koa app, route contracts, the OpenAPI document, the ops routes, shoppers' auth and rate limits.
export * from './app';
export * from './contract';
export * from './openapi';
export * from './ops';
export * from './shoppers/auth';
export * from './shoppers/rate-limit';
