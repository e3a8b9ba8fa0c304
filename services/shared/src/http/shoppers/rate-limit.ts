// Rate limits on shoppers' writes (placing orders, basket writes): a token bucket per customer (per
// client address for calls without a valid token), in the memory of each service instance. Over the
// limit a request is answered 429 with Retry-After and changes nothing.
import { Counter } from 'prom-client';
import { env } from '../../platform/config';
import { AppError } from '../errors';

export const rateLimitSettings = {
  RATE_LIMIT_ENABLED: {
    doc: "Rate limits on shoppers' writes (orders, basket writes); false turns them off (benchmarks, load tests)",
    default: 'true',
    schema: env.bool(),
  },
  RATE_LIMIT_PER_MINUTE: {
    doc: 'Writes a customer (or, without a valid token, a client address) may make per minute, per service instance, once its burst is spent',
    default: '60',
    schema: env.int(1),
  },
  RATE_LIMIT_BURST: { doc: 'Writes a customer may make at once before RATE_LIMIT_PER_MINUTE applies', default: '20', schema: env.int(1) },
};

export interface RateLimitConfig {
  RATE_LIMIT_ENABLED: boolean;
  RATE_LIMIT_PER_MINUTE: number;
  RATE_LIMIT_BURST: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by key: `burst` tokens, refilled at `perMinute`; idle full buckets are forgotten. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly burst: number,
    perMinute: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token for `key`: 0 when granted, else the seconds until one is available. */
  take(key: string): number {
    const now = this.clock();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    if (this.buckets.size > 100_000) this.sweep(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.buckets.set(key, b);
      return 0;
    }
    this.buckets.set(key, b);
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }

  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(k);
  }
}

/** What contractRouter uses on rate-limited routes: a 429 AppError (with Retry-After) when `key` is over its limit. */
export interface WriteLimiter {
  check(key: string, route: string, setHeader: (name: string, value: string) => void): void;
  /** http_rate_limited_total, registered with the service's registry by the HTTP app. */
  metric: Counter<'route'>;
}

export function createWriteLimiter(cfg: RateLimitConfig): WriteLimiter | undefined {
  if (!cfg.RATE_LIMIT_ENABLED) return undefined;
  const limiter = new RateLimiter(cfg.RATE_LIMIT_BURST, cfg.RATE_LIMIT_PER_MINUTE);
  const limited = new Counter({
    name: 'http_rate_limited_total',
    help: 'Requests answered 429 because their customer (or address) was over RATE_LIMIT_PER_MINUTE',
    labelNames: ['route'],
    registers: [],
  });
  return {
    metric: limited,
    check(key, route, setHeader) {
      const wait = limiter.take(key);
      if (wait === 0) return;
      limited.inc({ route });
      setHeader('Retry-After', String(wait));
      throw new AppError(429, 'rate_limited', `too many requests; retry in ${wait} s (RATE_LIMIT_PER_MINUTE)`);
    },
  };
}
