// Shopper identity (README "Shoppers and tokens"): a shopper's requests carry `Authorization: Bearer <JWT>`
// verified with jose, against a shared secret (HS256, development and simple deployments) or the keys of a
// JWKS URL (an identity provider). The token's subject is the customer id; a customer's basket is the
// basket whose id is the customer id, and their orders are the orders placed from it. The operator's
// ADMIN_TOKEN, or a JWT with the claim `admin: true`, acts for every customer.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { env } from '../../platform/config';
import { BasketId } from '../../events/registry';
import { isToken } from '../bearer';
import { AppError } from '../errors';

export const DEV_JWT_SECRET = 'dev-jwt-secret-change-me';

/** Settings of every service that serves shoppers (basket, order-command, order-query). */
export const authSettings = {
  AUTH_JWT_SECRET: {
    doc: "Shared secret (HS256) that shoppers' JWTs are signed with, when AUTH_JWKS_URL is not set; with NODE_ENV=production the service refuses the development default unless AUTH_JWKS_URL is set",
    default: DEV_JWT_SECRET,
    schema: env.string(),
    devDefault: (e: NodeJS.ProcessEnv) => !e.AUTH_JWKS_URL,
  },
  AUTH_JWKS_URL: {
    doc: "JWKS URL of the identity provider whose keys sign shoppers' JWTs (RS256, ES256, EdDSA); when set, AUTH_JWT_SECRET is not used",
    default: '',
    schema: env.url().optional(),
  },
  AUTH_JWT_ISSUER: { doc: "Required `iss` of shoppers' JWTs", default: 'qtshop', schema: env.string() },
  AUTH_JWT_AUDIENCE: { doc: "Required `aud` of shoppers' JWTs", default: 'qtshop', schema: env.string() },
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
  AUTH_JWT_ISSUER: string;
  AUTH_JWT_AUDIENCE: string;
  ADMIN_TOKEN: string;
}

const unauthorized = (code: string, message: string) => new AppError(401, code, message);

export function createAuthenticator(cfg: AuthConfig): Authenticator {
  const jwks: JWTVerifyGetKey | undefined = cfg.AUTH_JWKS_URL ? createRemoteJWKSet(new URL(cfg.AUTH_JWKS_URL)) : undefined;
  const secret = new TextEncoder().encode(cfg.AUTH_JWT_SECRET);
  const options = {
    issuer: cfg.AUTH_JWT_ISSUER,
    audience: cfg.AUTH_JWT_AUDIENCE,
    algorithms: jwks ? ['RS256', 'PS256', 'ES256', 'EdDSA'] : ['HS256'],
  };
  return async (authorization) => {
    const m = /^Bearer +(\S+)$/i.exec(authorization);
    if (!m) throw unauthorized('unauthorized', 'missing bearer token (Authorization: Bearer <JWT>; npm run token -- <customer> prints one)');
    if (isToken(m[1]!, cfg.ADMIN_TOKEN)) return { admin: true };
    let payload: JWTPayload;
    try {
      ({ payload } = jwks ? await jwtVerify(m[1]!, jwks, options) : await jwtVerify(m[1]!, secret, options));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('token_expired', 'the token has expired');
      if (err instanceof joseErrors.JOSEError) throw unauthorized('invalid_token', `invalid token: ${err.message}`);
      throw err;
    }
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

/** A development token for `customerId` (npm run token, tests, the chaos load), signed with the shared secret. */
export async function issueToken(
  cfg: Pick<AuthConfig, 'AUTH_JWT_SECRET' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE'>,
  customerId: string,
  opts: { admin?: boolean; expiresIn?: string | number } = {},
): Promise<string> {
  return new SignJWT(opts.admin ? { admin: true } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(customerId)
    .setIssuer(cfg.AUTH_JWT_ISSUER)
    .setAudience(cfg.AUTH_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(cfg.AUTH_JWT_SECRET));
}
