// Shopper identity (docs/security.md "Shoppers, tokens and rate limits"): a shopper's requests carry `Authorization: Bearer <JWT>`
// verified with jose, against a shared secret (HS256, development and simple deployments) or the keys of a
// JWKS URL (an identity provider, jwks.ts). Every JWT must expire (`exp`), within AUTH_JWT_MAX_LIFETIME_S
// of when it was issued. The token's subject is the customer id; a customer's basket is the basket whose
// id is the customer id, and their orders are the orders placed from it. The operator's ADMIN_TOKEN, or a
// JWT with the claim `admin: true`, acts for every customer. When the provider's keys cannot be fetched, a
// JWT is answered 503 auth_unavailable (nothing is known of it), not 401.
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { env } from '../../platform/config';
import type { Logger } from '../../platform/logging';
import { BasketId } from '../../events/registry';
import { isToken } from '../bearer';
import { AppError } from '../errors';
import { keysUnavailable, remoteKeys, type RemoteKeys } from './jwks';

export const DEV_JWT_SECRET = 'dev-jwt-secret-change-me';
/** The shortest AUTH_JWT_SECRET a service accepts with NODE_ENV=production (bytes, UTF-8): HS256's key size. */
export const JWT_SECRET_MIN_BYTES = 32;
/** Retry-After (seconds) of a 503 auth_unavailable. */
export const AUTH_UNAVAILABLE_RETRY_AFTER_S = 5;

/** Settings of every service that serves shoppers (basket, order-command, order-query). */
export const authSettings = {
  AUTH_JWT_SECRET: {
    doc: `Shared secret (HS256) that shoppers' JWTs are signed with, when AUTH_JWKS_URL is not set; whoever holds it can mint any shopper's token, and admin ones. With NODE_ENV=production the service refuses, unless AUTH_JWKS_URL is set, the development default or a secret shorter than ${JWT_SECRET_MIN_BYTES} bytes`,
    default: DEV_JWT_SECRET,
    schema: env.string(),
    devDefault: (e: NodeJS.ProcessEnv) => !e.AUTH_JWKS_URL,
    production: (v: string, e: NodeJS.ProcessEnv) =>
      !e.AUTH_JWKS_URL && Buffer.byteLength(v) < JWT_SECRET_MIN_BYTES
        ? `is shorter than ${JWT_SECRET_MIN_BYTES} bytes; set AUTH_JWT_SECRET to a random secret at least that long, which openssl rand -hex 32 prints`
        : undefined,
  },
  AUTH_JWKS_URL: {
    doc: "JWKS URL of the identity provider whose keys sign shoppers' JWTs (RS256, PS256, ES256, EdDSA); when set, AUTH_JWT_SECRET is not used. While its keys cannot be fetched, requests with a JWT are answered 503 auth_unavailable and /ready's jwks check fails. With NODE_ENV=production the service refuses a URL that is not https://",
    default: '',
    schema: env.url().optional(),
    production: (v: string) =>
      new URL(v).protocol === 'https:' ? undefined : 'is not an https:// URL; the keys that vouch for every token must come over TLS',
  },
  AUTH_JWKS_CACHE_MAX_AGE_S: {
    doc: 'How long keys fetched from AUTH_JWKS_URL are used before they are fetched again (a token whose key id they lack fetches them sooner, at most every 30 s); while they cannot be fetched again, requests with a JWT are answered 503',
    default: '600',
    schema: env.int(1),
  },
  AUTH_JWT_ISSUER: { doc: "Required `iss` of shoppers' JWTs", default: 'qtshop', schema: env.string() },
  AUTH_JWT_AUDIENCE: { doc: "Required `aud` of shoppers' JWTs", default: 'qtshop', schema: env.string() },
  AUTH_JWT_MAX_LIFETIME_S: {
    doc: "Longest lifetime of a shopper's JWT, exp - iat (exp - now when it has no iat, or iat is ahead): a longer one is refused (401 invalid_token), as is one without exp; npm run token mints within it",
    default: '86400',
    schema: env.int(1),
  },
};

/** Who is calling: a shopper (customerId), or an operator acting for everyone (admin). */
export interface Identity {
  customerId?: string;
  admin: boolean;
}

/** Verifies an Authorization header; rejects with a 401 AppError when it does not identify anyone. */
export type Authenticator = (authorization: string) => Promise<Identity>;

export interface AuthConfig {
  AUTH_JWT_SECRET: string;
  AUTH_JWKS_URL?: string | undefined;
  AUTH_JWKS_CACHE_MAX_AGE_S: number;
  AUTH_JWT_ISSUER: string;
  AUTH_JWT_AUDIENCE: string;
  AUTH_JWT_MAX_LIFETIME_S: number;
  ADMIN_TOKEN: string;
}

const unauthorized = (code: string, message: string) => new AppError(401, code, message);

/** A 503: the identity provider's keys cannot be fetched, so the token can be neither accepted nor refused. */
export class AuthUnavailable extends AppError {
  readonly retryAfterS = AUTH_UNAVAILABLE_RETRY_AFTER_S;
  constructor() {
    super(503, 'auth_unavailable', "the identity provider's keys cannot be fetched to verify the token; retry later");
  }
}

/**
 * Why a verified token's lifetime is refused, or undefined: it must have `exp`, at most `maxS` seconds
 * after `iat` (after `nowS` when it has no `iat`, or one ahead of `nowS`: a token may not outlive the
 * maximum from now either).
 */
export function lifetimeRefusal(payload: Pick<JWTPayload, 'exp' | 'iat'>, maxS: number, nowS: number): string | undefined {
  if (typeof payload.exp !== 'number') return `invalid token: exp is required (a shopper's token must expire within AUTH_JWT_MAX_LIFETIME_S, ${maxS} s)`;
  const lifetime = payload.exp - Math.min(payload.iat ?? nowS, nowS);
  return lifetime > maxS
    ? `invalid token: its lifetime (exp - iat, or exp - now without iat) is ${lifetime} s, longer than AUTH_JWT_MAX_LIFETIME_S (${maxS} s)`
    : undefined;
}

/** The remote keys of `cfg.AUTH_JWKS_URL`; none when it is not set. */
export const jwksOf = (cfg: Pick<AuthConfig, 'AUTH_JWKS_URL' | 'AUTH_JWKS_CACHE_MAX_AGE_S'>, log?: Logger): RemoteKeys | undefined =>
  cfg.AUTH_JWKS_URL ? remoteKeys({ AUTH_JWKS_URL: cfg.AUTH_JWKS_URL, AUTH_JWKS_CACHE_MAX_AGE_S: cfg.AUTH_JWKS_CACHE_MAX_AGE_S }, log) : undefined;

/**
 * Verifies shoppers' tokens: against `keys` (the provider's at AUTH_JWKS_URL, by default made here) when
 * AUTH_JWKS_URL is set, else against AUTH_JWT_SECRET.
 */
export function createAuthenticator(cfg: AuthConfig, keys: RemoteKeys | undefined = jwksOf(cfg)): Authenticator {
  const secret = new TextEncoder().encode(cfg.AUTH_JWT_SECRET);
  const options = {
    issuer: cfg.AUTH_JWT_ISSUER,
    audience: cfg.AUTH_JWT_AUDIENCE,
    algorithms: keys ? ['RS256', 'PS256', 'ES256', 'EdDSA'] : ['HS256'],
  };
  return async (authorization) => {
    const m = /^Bearer +(\S+)$/i.exec(authorization);
    if (!m) throw unauthorized('unauthorized', 'missing bearer token (Authorization: Bearer <JWT>; npm run token -- <customer> prints one)');
    if (isToken(m[1]!, cfg.ADMIN_TOKEN)) return { admin: true };
    let payload: JWTPayload;
    try {
      ({ payload } = keys ? await jwtVerify(m[1]!, keys.getKey, options) : await jwtVerify(m[1]!, secret, options));
    } catch (err) {
      if (keysUnavailable(err)) throw new AuthUnavailable();
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('token_expired', 'the token has expired');
      if (err instanceof joseErrors.JOSEError) throw unauthorized('invalid_token', `invalid token: ${err.message}`);
      throw err;
    }
    const refused = lifetimeRefusal(payload, cfg.AUTH_JWT_MAX_LIFETIME_S, Math.floor(Date.now() / 1000));
    if (refused) throw unauthorized('invalid_token', refused);
    if (payload.admin === true) return { admin: true, ...(payload.sub ? { customerId: payload.sub } : {}) };
    if (!BasketId.safeParse(payload.sub).success)
      throw unauthorized('invalid_token', 'invalid token: sub must be a customer id (1-100 characters of A-Z, a-z, 0-9, _ and -)');
    return { customerId: payload.sub!, admin: false };
  };
}

/** The caller acts for `customerId` (their own, or anyone's as admin); a 403 otherwise. */
export function requireCustomer(identity: Identity | undefined, customerId: string, what: string): void {
  if (identity?.admin || identity?.customerId === customerId) return;
  throw new AppError(403, 'forbidden', `${what} belongs to another customer`);
}

/** Whether the caller may see what `customerId` owns (an owner-less record: admin only). */
export const mayRead = (identity: Identity | undefined, customerId: string | null | undefined): boolean =>
  !!identity?.admin || (!!customerId && identity?.customerId === customerId);

/** The lifetime of a token issueToken mints when not told: 12 hours, or AUTH_JWT_MAX_LIFETIME_S when shorter. */
const DEFAULT_LIFETIME_S = 12 * 3600;

/**
 * A development token for `customerId` (npm run token, tests, the chaos load), signed with the shared
 * secret. `expiresIn` is a time span ('30m', '12h'; a number is jose's absolute exp); a lifetime longer
 * than AUTH_JWT_MAX_LIFETIME_S, which the services would refuse, is a RangeError.
 */
export async function issueToken(
  cfg: Pick<AuthConfig, 'AUTH_JWT_SECRET' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE' | 'AUTH_JWT_MAX_LIFETIME_S'>,
  customerId: string,
  opts: { admin?: boolean; expiresIn?: string | number } = {},
): Promise<string> {
  const token = await new SignJWT(opts.admin ? { admin: true } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(customerId)
    .setIssuer(cfg.AUTH_JWT_ISSUER)
    .setAudience(cfg.AUTH_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? `${Math.min(DEFAULT_LIFETIME_S, cfg.AUTH_JWT_MAX_LIFETIME_S)}s`)
    .sign(new TextEncoder().encode(cfg.AUTH_JWT_SECRET));
  const { exp = 0, iat = 0 } = decodeJwt(token);
  if (exp - iat > cfg.AUTH_JWT_MAX_LIFETIME_S) {
    throw new RangeError(`a token expiring in ${exp - iat} s outlives AUTH_JWT_MAX_LIFETIME_S (${cfg.AUTH_JWT_MAX_LIFETIME_S} s), which the services refuse`);
  }
  return token;
}
