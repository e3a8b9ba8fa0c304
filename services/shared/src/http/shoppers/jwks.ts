// The keys of the identity provider at AUTH_JWKS_URL that shoppers' JWTs are verified with: jose's remote
// JWK set, cached for AUTH_JWKS_CACHE_MAX_AGE_S, fetched through a fetch of our own that tells a fetch that
// failed (connection refused, timed out, not 200, not a JWK set) apart from a token that is bad. The first
// is KeysUnavailable (the authenticator answers 503 auth_unavailable), the second stays jose's error (401).
// While fetching fails the readiness check `jwks` fails too, and fetches again on each probe, so that it is
// green again by itself once the provider answers; every failed fetch is counted
// (auth_jwks_fetch_failures_total), and the change to failing, and back, logged.
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors as joseErrors, type FetchImplementation, type JWTVerifyGetKey } from 'jose';
import { Counter } from 'prom-client';
import type { Logger } from '../../platform/logging';

/** The keys could not be fetched: nothing is known of the token, which may well be good. */
export class KeysUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeysUnavailable';
  }
}

/** Whether `err`, thrown while verifying a token, says that the keys could not be fetched (not that the token is bad). */
export const keysUnavailable = (err: unknown): boolean =>
  err instanceof KeysUnavailable || err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid;

export interface JwksConfig {
  AUTH_JWKS_URL: string;
  AUTH_JWKS_CACHE_MAX_AGE_S: number;
}

/** The identity provider's keys, for jwtVerify, with the readiness check and the metric they come with. */
export interface RemoteKeys {
  /** jwtVerify's key; rejects with KeysUnavailable when the keys it needs cannot be fetched. */
  getKey: JWTVerifyGetKey;
  /**
   * The readiness check `jwks`: passes while the keys are cached and the last fetch succeeded; otherwise it
   * fetches them (with the requests that are fetching, not besides them) and fails while that fails.
   */
  ready(): Promise<void>;
  /** auth_jwks_fetch_failures_total, registered with the service's registry by the HTTP app. */
  metric: Counter;
}

/** Why a fetch rejected: a timeout, or the network's reason (ECONNREFUSED, ENOTFOUND, ...). Duck-typed: fetch's errors may come from another realm. */
function reasonOf(err: unknown, timeoutMs: number): string {
  const e = (err ?? {}) as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** How long one fetch of the keys may take (jose's default). */
const FETCH_TIMEOUT_MS = 5000;

export function remoteKeys(cfg: JwksConfig, log?: Logger): RemoteKeys {
  const url = new URL(cfg.AUTH_JWKS_URL);
  const metric = new Counter({
    name: 'auth_jwks_fetch_failures_total',
    help: "Fetches of the identity provider's keys (AUTH_JWKS_URL) that failed: refused, timed out, not 200 or not a JWK set",
    registers: [],
  });
  let failing: string | undefined;
  const failed = (reason: string, cause?: unknown): never => {
    metric.inc();
    if (failing === undefined) {
      log?.warn(
        { url: url.href, reason },
        "cannot fetch the keys at AUTH_JWKS_URL: requests with a shopper's JWT are answered 503 auth_unavailable until they can",
      );
    }
    failing = reason;
    throw new KeysUnavailable(`cannot fetch the keys at AUTH_JWKS_URL (${url.href}): ${reason}`, cause === undefined ? undefined : { cause });
  };
  const fetchKeys: FetchImplementation = async (href, init) => {
    let status: number;
    let body: string;
    try {
      const res = await fetch(href, init);
      status = res.status;
      body = await res.text();
    } catch (err) {
      return failed(reasonOf(err, FETCH_TIMEOUT_MS), err);
    }
    if (status !== 200) return failed(`HTTP ${status}`);
    try {
      createLocalJWKSet(JSON.parse(body) as Parameters<typeof createLocalJWKSet>[0]);
    } catch (err) {
      return failed('the response is not a JWK set', err);
    }
    if (failing !== undefined) log?.info({ url: url.href }, "the keys at AUTH_JWKS_URL are fetched again: shoppers' JWTs are verified again");
    failing = undefined;
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const jwks = createRemoteJWKSet(url, { cacheMaxAge: cfg.AUTH_JWKS_CACHE_MAX_AGE_S * 1000, timeoutDuration: FETCH_TIMEOUT_MS, [customFetch]: fetchKeys });
  return {
    getKey: jwks,
    async ready() {
      if (failing !== undefined || !jwks.fresh) await jwks.reload();
    },
    metric,
  };
}
