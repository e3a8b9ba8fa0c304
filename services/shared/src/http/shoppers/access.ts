// How a service serves shoppers: who is calling (auth.ts) and how often they may write (rate-limit.ts),
// put together from its settings for contractRouter's shopper routes.
import { httpSettings } from '../settings';
import { authSettings, createAuthenticator, type AuthConfig, type Authenticator } from './auth';
import { createWriteLimiter, rateLimitSettings, type RateLimitConfig, type WriteLimiter } from './rate-limit';

/** Everything a service serving shoppers needs: the admin token, the JWT verification and the rate limits. */
export const shopperSettings = { ADMIN_TOKEN: httpSettings.ADMIN_TOKEN, ...authSettings, ...rateLimitSettings };

/** How shopper routes identify callers and limit their writes. */
export interface ShopperAccess {
  authenticate: Authenticator;
  /** Absent: no rate limit (RATE_LIMIT_ENABLED=false). */
  limiter?: WriteLimiter | undefined;
}

/** The shopper routes' access (contractRouter's `shoppers`) from a service's configuration. */
export const shopperAccess = (cfg: AuthConfig & RateLimitConfig): ShopperAccess => ({
  authenticate: createAuthenticator(cfg),
  limiter: createWriteLimiter(cfg),
});
