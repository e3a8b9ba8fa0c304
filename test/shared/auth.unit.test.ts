// Shopper tokens: every JWT must expire, within AUTH_JWT_MAX_LIFETIME_S of when it was issued (signed here
// with the development secret, HS256), and the development tokens issueToken mints (npm run token) stay
// within it. Tokens verified against a JWKS URL (production: the identity provider's keys), served here by
// a local HTTP server on an ephemeral port: a token signed by the JWKS key identifies its subject; one
// signed with the development secret, or by a key the JWKS does not hold, is refused with a 401; while the
// keys cannot be fetched (refused, not 200, not a JWK set) a token is answered 503 auth_unavailable and the
// readiness check fails, until the keys can be fetched again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import {
  AppError,
  AuthUnavailable,
  createAuthenticator,
  DEV_JWT_SECRET,
  issueToken,
  lifetimeRefusal,
  remoteKeys,
  type AuthConfig,
  type Authenticator,
} from '@qtshop/shared/http';

const ISSUER = 'https://id.example/';
const AUDIENCE = 'qtshop';
const KID = 'shop-key-1';
const MAX = 86_400;

let server: Server;
let jwksUrl: string;
let jwksRequests = 0;
/** What the JWKS server answers: the key set, a 500, or a body that is not a JWK set. */
let serving: 'keys' | 'error' | 'garbage' = 'keys';
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let auth: Authenticator;

const cfg = (over: Partial<AuthConfig> = {}): AuthConfig => ({
  AUTH_JWT_SECRET: DEV_JWT_SECRET,
  AUTH_JWKS_CACHE_MAX_AGE_S: 600,
  AUTH_JWT_ISSUER: ISSUER,
  AUTH_JWT_AUDIENCE: AUDIENCE,
  AUTH_JWT_MAX_LIFETIME_S: MAX,
  ADMIN_TOKEN: 'an-operator-token',
  ...over,
});

const rs256 = (key: CryptoKey, sub: string, opts: { kid?: string; issuer?: string } = {}) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? KID })
    .setSubject(sub)
    .setIssuer(opts.issuer ?? ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token signed with the development secret, with exactly the `exp` and `iat` given (none when absent). */
const hs256 = (claims: { exp?: number; iat?: number; admin?: boolean }) => {
  const jwt = new SignJWT(claims.admin ? { admin: true } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice-42')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE);
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(DEV_JWT_SECRET));
};

/** The AppError `authenticate` rejects with (the 401 or 503 the error middleware answers). */
async function refusal(authorization: string, authenticate: Authenticator = auth): Promise<AppError> {
  const err = await authenticate(authorization).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  server = createServer((req, res) => {
    jwksRequests += 1;
    if (req.url !== '/.well-known/jwks.json') res.writeHead(404).end();
    else if (serving === 'error') res.writeHead(500).end('the provider is down');
    else if (serving === 'garbage') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  auth = createAuthenticator(cfg({ AUTH_JWKS_URL: jwksUrl }));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

afterEach(() => {
  serving = 'keys';
});

describe("a shopper's JWT must expire, within AUTH_JWT_MAX_LIFETIME_S", () => {
  const hsAuth = () => createAuthenticator(cfg());

  it('refuses with 401 a token without exp, saying exp is required; an admin one too', async () => {
    for (const token of [await hs256({ iat: now() }), await hs256({ iat: now(), admin: true }), await hs256({})]) {
      const err = await refusal(`Bearer ${token}`, hsAuth());
      expect(err).toMatchObject({ status: 401, code: 'invalid_token' });
      expect(err.message).toMatch(/exp is required/);
    }
  });

  it('refuses with 401 a token that lives longer than the maximum, whether from its iat or, without one, from now', async () => {
    const t = now();
    const tooLong = [await hs256({ iat: t, exp: t + MAX + 1 }), await hs256({ exp: t + MAX + 60 }), await hs256({ iat: t - 60, exp: t + MAX })];
    for (const token of tooLong) {
      const err = await refusal(`Bearer ${token}`, hsAuth());
      expect(err).toMatchObject({ status: 401, code: 'invalid_token' });
      expect(err.message).toMatch(/longer than AUTH_JWT_MAX_LIFETIME_S \(86400 s\)/);
    }
  });

  it('refuses a token issued "in the future" whose exp is further from now than the maximum', async () => {
    const t = now();
    expect(await refusal(`Bearer ${await hs256({ iat: t + 10 * MAX, exp: t + 10 * MAX + 60 })}`, hsAuth())).toMatchObject({
      status: 401,
      code: 'invalid_token',
    });
  });

  it('accepts a token of exactly the maximum lifetime, and a short one', async () => {
    const t = now();
    await expect(hsAuth()(`Bearer ${await hs256({ iat: t, exp: t + MAX })}`)).resolves.toEqual({ customerId: 'alice-42', admin: false });
    await expect(hsAuth()(`Bearer ${await hs256({ iat: t, exp: t + 60 })}`)).resolves.toEqual({ customerId: 'alice-42', admin: false });
    await expect(createAuthenticator(cfg({ AUTH_JWT_MAX_LIFETIME_S: 60 }))(`Bearer ${await hs256({ exp: t + 30 })}`)).resolves.toMatchObject({
      customerId: 'alice-42',
    });
  });

  it('lifetimeRefusal: exp required; exp - iat, or exp - now without iat or with one ahead, at most the maximum', () => {
    expect(lifetimeRefusal({}, 100, 1000)).toMatch(/exp is required/);
    expect(lifetimeRefusal({ iat: 1000 }, 100, 1000)).toMatch(/exp is required/);
    expect(lifetimeRefusal({ iat: 900, exp: 1000 }, 100, 1000)).toBeUndefined();
    expect(lifetimeRefusal({ iat: 899, exp: 1000 }, 100, 1000)).toMatch(/is 101 s, longer than AUTH_JWT_MAX_LIFETIME_S \(100 s\)/);
    expect(lifetimeRefusal({ exp: 1100 }, 100, 1000)).toBeUndefined();
    expect(lifetimeRefusal({ exp: 1101 }, 100, 1000)).toMatch(/is 101 s/);
    expect(lifetimeRefusal({ iat: 5000, exp: 5050 }, 100, 1000)).toMatch(/is 4050 s/);
  });

  it('issueToken (npm run token) mints tokens that expire within the maximum: 12 h by default, less when the maximum is less', async () => {
    const lifetime = (token: string) => {
      const { exp, iat } = decodeJwt(token);
      return exp! - iat!;
    };
    const token = await issueToken(cfg(), 'alice-42');
    expect(lifetime(token)).toBe(12 * 3600);
    await expect(createAuthenticator(cfg())(`Bearer ${token}`)).resolves.toEqual({ customerId: 'alice-42', admin: false });
    expect(lifetime(await issueToken(cfg({ AUTH_JWT_MAX_LIFETIME_S: 3600 }), 'alice-42'))).toBe(3600);
    expect(lifetime(await issueToken(cfg(), 'alice-42', { expiresIn: '24h' }))).toBe(MAX);
    await expect(issueToken(cfg(), 'alice-42', { expiresIn: '25h' })).rejects.toThrow(/outlives AUTH_JWT_MAX_LIFETIME_S \(86400 s\)/);
    await expect(issueToken(cfg({ AUTH_JWT_MAX_LIFETIME_S: 3600 }), 'alice-42', { admin: true, expiresIn: '2h' })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('createAuthenticator with AUTH_JWKS_URL', () => {
  it("accepts an RS256 token signed by the JWKS's key, as its subject", async () => {
    const token = await rs256(signingKey, 'alice-42');
    await expect(auth(`Bearer ${token}`)).resolves.toEqual({ customerId: 'alice-42', admin: false });
    expect(jwksRequests).toBeGreaterThan(0); // the key came from the URL
  });

  it('refuses with 401 a token signed with the development secret (HS256), which the JWKS does not vouch for', async () => {
    const token = await issueToken(cfg(), 'alice-42');
    expect(await refusal(`Bearer ${token}`)).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it("refuses with 401 a token signed by another key, whether it names the JWKS's key id or one the JWKS lacks", async () => {
    expect(await refusal(`Bearer ${await rs256(otherKey, 'mallory')}`)).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(await refusal(`Bearer ${await rs256(otherKey, 'mallory', { kid: 'not-in-the-jwks' })}`)).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('refuses with 401 a token of the right key from another issuer', async () => {
    expect(await refusal(`Bearer ${await rs256(signingKey, 'alice-42', { issuer: 'https://elsewhere.example/' })}`)).toMatchObject({
      status: 401,
      code: 'invalid_token',
    });
  });

  it('still takes the admin token', async () => {
    await expect(auth('Bearer an-operator-token')).resolves.toEqual({ admin: true });
  });
});

describe('while the keys at AUTH_JWKS_URL cannot be fetched', () => {
  it.each(['error', 'garbage'] as const)(
    'answers a token 503 auth_unavailable (not 401) while the JWKS answers %s, fails the readiness check, counts it, and recovers by itself',
    async (mode) => {
      serving = mode;
      const keys = remoteKeys({ AUTH_JWKS_URL: jwksUrl, AUTH_JWKS_CACHE_MAX_AGE_S: 600 });
      const authenticate = createAuthenticator(cfg({ AUTH_JWKS_URL: jwksUrl }), keys);
      const token = await rs256(signingKey, 'alice-42');
      const err = await refusal(`Bearer ${token}`, authenticate);
      expect(err).toBeInstanceOf(AuthUnavailable);
      expect(err).toMatchObject({ status: 503, code: 'auth_unavailable', retryAfterS: expect.any(Number) });
      await expect(keys.ready()).rejects.toThrow(mode === 'error' ? /cannot fetch the keys at AUTH_JWKS_URL .*: HTTP 500/ : /not a JWK set/);
      expect((await keys.metric.get()).values[0]!.value).toBeGreaterThanOrEqual(2);
      // Nor does a token that is bad get a 401 while nothing can be checked; the admin token still works.
      expect(await refusal(`Bearer ${await rs256(otherKey, 'mallory')}`, authenticate)).toMatchObject({ status: 503 });
      await expect(authenticate('Bearer an-operator-token')).resolves.toEqual({ admin: true });

      serving = 'keys';
      await expect(keys.ready()).resolves.toBeUndefined();
      await expect(authenticate(`Bearer ${token}`)).resolves.toEqual({ customerId: 'alice-42', admin: false });
      expect(await refusal(`Bearer ${await rs256(otherKey, 'mallory')}`, authenticate)).toMatchObject({ status: 401, code: 'invalid_token' });
    },
  );

  it('answers 503 when nothing listens at the URL (connection refused), naming the reason in the readiness check', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
    await new Promise<void>((r) => closed.close(() => r()));
    const keys = remoteKeys({ AUTH_JWKS_URL: url, AUTH_JWKS_CACHE_MAX_AGE_S: 600 });
    const authenticate = createAuthenticator(cfg({ AUTH_JWKS_URL: url }), keys);
    expect(await refusal(`Bearer ${await rs256(signingKey, 'alice-42')}`, authenticate)).toMatchObject({ status: 503, code: 'auth_unavailable' });
    await expect(keys.ready()).rejects.toThrow(/ECONNREFUSED/);
    // An unparsable token is refused before any key is needed.
    expect(await refusal('Bearer not-a-token', authenticate)).toMatchObject({ status: 401, code: 'invalid_token' });
  });
});
