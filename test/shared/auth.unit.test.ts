// Shopper tokens verified against a JWKS URL (production: the identity provider's keys), served here by a
// local HTTP server on an ephemeral port: a token signed by the JWKS key identifies its subject; one signed
// with the development secret, or by a key the JWKS does not hold, is refused with a 401.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { AppError, createAuthenticator, DEV_JWT_SECRET, issueToken, type Authenticator } from '@qtshop/shared/http';

const ISSUER = 'https://id.example/';
const AUDIENCE = 'qtshop';
const KID = 'shop-key-1';

let server: Server;
let jwksUrl: string;
let jwksRequests = 0;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let auth: Authenticator;

const rs256 = (key: CryptoKey, sub: string, opts: { kid?: string; issuer?: string } = {}) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? KID })
    .setSubject(sub)
    .setIssuer(opts.issuer ?? ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);

/** The AppError the authenticator rejects with (the 401 the error middleware answers). */
async function refusal(authorization: string): Promise<AppError> {
  const err = await auth(authorization).then(
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
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  auth = createAuthenticator({
    AUTH_JWT_SECRET: DEV_JWT_SECRET,
    AUTH_JWKS_URL: jwksUrl,
    AUTH_JWT_ISSUER: ISSUER,
    AUTH_JWT_AUDIENCE: AUDIENCE,
    ADMIN_TOKEN: 'an-operator-token',
  });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('createAuthenticator with AUTH_JWKS_URL', () => {
  it("accepts an RS256 token signed by the JWKS's key, as its subject", async () => {
    const token = await rs256(signingKey, 'alice-42');
    await expect(auth(`Bearer ${token}`)).resolves.toEqual({ customerId: 'alice-42', admin: false });
    expect(jwksRequests).toBeGreaterThan(0); // the key came from the URL
  });

  it('refuses with 401 a token signed with the development secret (HS256), which the JWKS does not vouch for', async () => {
    const token = await issueToken({ AUTH_JWT_SECRET: DEV_JWT_SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE }, 'alice-42');
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
