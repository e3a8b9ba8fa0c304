// How a service serves shoppers: who is calling (auth.ts, with the identity provider's keys of jwks.ts) and
// how often they may write (rate-limit.ts), put together from its settings for contractRouter's shopper
// routes.
import type { Logger } from '../../platform/logging';
import { httpSettings } from '../settings';
import { authSettings, createAuthenticator, jwksOf, type AuthConfig, type Authenticator } from './auth';
import type { RemoteKeys } from './jwks';
import { createWriteLimiter, rateLimitSettings, type RateLimitConfig, type WriteLimiter } from './rate-limit';

/** Everything a service serving shoppers needs: the admin token, the JWT verification and the rate limits. */
export const shopperSettings = { ADMIN_TOKEN: httpSettings.ADMIN_TOKEN, ...authSettings, ...rateLimitSettings };

/** How shopper routes identify callers and limit their writes. */
export interface ShopperAccess {
  authenticate: Authenticator;
  /** Absent: no rate limit (RATE_LIMIT_ENABLED=false). */
  limiter?: WriteLimiter | undefined;
  /** The identity provider's keys (AUTH_JWKS_URL), whose readiness check `jwks` the router adds to /ready; absent with AUTH_JWT_SECRET. */
  keys?: RemoteKeys | undefined;
}

/** The shopper routes' access (contractRouter's `shoppers`) from a service's configuration; `log` tells when the provider's keys cannot be fetched. */
export const shopperAccess = (cfg: AuthConfig & RateLimitConfig, log: Logger): ShopperAccess => {
  const keys = jwksOf(cfg, log);
  return { authenticate: createAuthenticator(cfg, keys), limiter: createWriteLimiter(cfg), keys };
};
