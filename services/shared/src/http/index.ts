// HTTP: the Koa app, errors, route contracts, the OpenAPI document, the ops routes, the admin token, shoppers' auth and rate limits.
export * from './app';
export * from './bearer';
export * from './contract';
export * from './errors';
export * from './openapi';
export * from './ops';
export * from './settings';
export * from './shoppers/access';
export * from './shoppers/auth';
export * from './shoppers/jwks';
export * from './shoppers/rate-limit';
