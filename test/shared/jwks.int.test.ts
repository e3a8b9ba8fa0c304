// When the identity provider's keys (AUTH_JWKS_URL) cannot be fetched, against the real stack: order-query
// in-process, its keys served by a local HTTP server (a JWK set of a key made with jose). While the server
// is stopped, a shopper's JWT is answered 503 auth_unavailable with Retry-After (not 401, not 500), the
// admin token still works, /ready fails on its `jwks` check, the failed fetches are counted and logged;
// once the server is back, /ready turns green by itself (no request needed) and tokens are verified
// again: a good one 200, a bad one 401.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createLogger, waitUntil } from '@qtshop/shared/platform';
import { ADMIN, http, orderQueryForTest } from '../support/services';

const ISSUER = 'https://id.example/';
const KID = 'jwks-int-key';

let jwk: JWK;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let jwks: Server;
let port: number;
let svc: Awaited<ReturnType<typeof orderQueryForTest>>;
const logLines: Array<{ level: number; msg: string; reason?: string }> = [];

/** Serves the JWK set on `port` (0: a free one), until stopJwks. */
async function startJwks(at: number): Promise<void> {
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(at, '127.0.0.1', r));
  port = (jwks.address() as AddressInfo).port;
}

async function stopJwks(): Promise<void> {
  const closed = new Promise<void>((r) => jwks.close(() => r()));
  jwks.closeAllConnections();
  await closed;
}

const token = (key: CryptoKey, claims: { exp?: string } = { exp: '5m' }) => {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: KID }).setSubject('jwks-shopper').setIssuer(ISSUER).setAudience('qtshop').setIssuedAt();
  if (claims.exp) jwt.setExpirationTime(claims.exp);
  return jwt.sign(key);
};
const bearer = async (t: Promise<string>) => ({ authorization: `Bearer ${await t}` });
const ready = async () => (await http('GET', `${svc.url}/ready`)) as { status: number; json: { status: string; checks: Record<string, string> } };

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  await startJwks(0);
  const log = createLogger('order-query', 'info', { write: (line: string) => void logLines.push(JSON.parse(line) as (typeof logLines)[number]) });
  // Keys kept for 1 s, so that the stopped server is noticed at once rather than after the default 10 min.
  svc = await orderQueryForTest(
    { AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, AUTH_JWT_ISSUER: ISSUER, AUTH_JWKS_CACHE_MAX_AGE_S: '1' },
    log,
  );
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  if (jwks?.listening) await stopJwks();
});

describe("order-query while the identity provider's keys cannot be fetched", () => {
  it('verifies tokens with the keys while they can be fetched: 200 for a good token, 401 for a bad one or one without exp; /ready green', async () => {
    const ok = await http('GET', `${svc.url}/orders`, undefined, await bearer(token(signingKey)));
    expect(ok.status).toBe(200);
    const forged = await http('GET', `${svc.url}/orders`, undefined, await bearer(token(otherKey)));
    expect([forged.status, forged.json?.error?.code]).toEqual([401, 'invalid_token']);
    const forever = await http('GET', `${svc.url}/orders`, undefined, await bearer(token(signingKey, {})));
    expect([forever.status, forever.json?.error?.code]).toEqual([401, 'invalid_token']);
    expect(forever.json.error.message).toMatch(/exp is required/);
    await waitUntil(async () => (await ready()).json.checks.jwks === 'ok', { timeoutMs: 30_000, what: "/ready's jwks check ok" });
  });

  it('answers 503 auth_unavailable with Retry-After while the JWKS server is down, fails /ready, counts and logs it; the admin token still works', async () => {
    await stopJwks();
    const down = await waitUntil(
      async () => {
        const r = await ready();
        return r.status === 503 && /^failing: cannot fetch the keys at AUTH_JWKS_URL .*ECONNREFUSED/.test(r.json.checks.jwks ?? '') ? r : undefined;
      },
      { timeoutMs: 30_000, what: '/ready to fail on jwks' },
    );
    expect(down.json.status).toBe('not_ready');

    const res = await http('GET', `${svc.url}/orders`, undefined, await bearer(token(signingKey)));
    expect([res.status, res.json?.error?.code]).toEqual([503, 'auth_unavailable']);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('www-authenticate')).toBeNull();
    // Nothing can be said of a forged token either while the keys are out of reach.
    expect((await http('GET', `${svc.url}/orders`, undefined, await bearer(token(otherKey)))).status).toBe(503);
    expect((await http('GET', `${svc.url}/orders`, undefined, ADMIN)).status).toBe(200);

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(Number(/^auth_jwks_fetch_failures_total\{service="order-query"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    const warned = logLines.filter((l) => l.level === 40 && /cannot fetch the keys at AUTH_JWKS_URL/.test(l.msg));
    expect(warned).toHaveLength(1); // once when it begins failing, not per request
    expect(warned[0]!.reason).toBe('ECONNREFUSED');
  });

  it('turns /ready green again by itself once the JWKS server is back, and verifies tokens again: 200, and 401 for a bad one', async () => {
    await startJwks(port);
    await waitUntil(
      async () => {
        const r = await ready();
        return r.status === 200 && r.json.checks.jwks === 'ok';
      },
      { timeoutMs: 30_000, what: '/ready green again' },
    );
    expect(logLines.some((l) => l.level === 30 && /fetched again/.test(l.msg))).toBe(true);
    expect((await http('GET', `${svc.url}/orders`, undefined, await bearer(token(signingKey)))).status).toBe(200);
    const forged = await http('GET', `${svc.url}/orders`, undefined, await bearer(token(otherKey)));
    expect([forged.status, forged.json?.error?.code]).toEqual([401, 'invalid_token']);
    const expired = await http('GET', `${svc.url}/orders`, undefined, await bearer(token(signingKey, { exp: '-1m' })));
    expect([expired.status, expired.json?.error?.code]).toEqual([401, 'token_expired']);
  });
});
