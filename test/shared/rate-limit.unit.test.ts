// The rate limits' off switch (RATE_LIMIT_ENABLED=false, for benchmarks and load tests), checked directly
// on the limiter a service builds from its configuration.
import { loadConfig } from '@qtshop/shared/platform';
import { AppError, createWriteLimiter, rateLimitSettings } from '@qtshop/shared/http';

const headers = () => {
  const set: Record<string, string> = {};
  return { set, setHeader: (name: string, value: string) => void (set[name] = value) };
};

describe('createWriteLimiter', () => {
  it('answers 429 with Retry-After once a customer has spent the burst (RATE_LIMIT_ENABLED=true, the default)', () => {
    const cfg = loadConfig(rateLimitSettings, { RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_MINUTE: '1' });
    expect(cfg.RATE_LIMIT_ENABLED).toBe(true);
    const limiter = createWriteLimiter(cfg)!;
    const h = headers();
    limiter.check('customer:a', 'POST /orders', h.setHeader);
    limiter.check('customer:a', 'POST /orders', h.setHeader);
    let err: unknown;
    try {
      limiter.check('customer:a', 'POST /orders', h.setHeader);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(h.set['Retry-After'])).toBeGreaterThanOrEqual(1);
  });

  it.each(['false', '0'])('is off with RATE_LIMIT_ENABLED=%s: no limiter, so no write is ever refused', (off) => {
    const cfg = loadConfig(rateLimitSettings, { RATE_LIMIT_ENABLED: off, RATE_LIMIT_BURST: '1', RATE_LIMIT_PER_MINUTE: '1' });
    expect(cfg.RATE_LIMIT_ENABLED).toBe(false);
    // contractRouter checks a limit only when the service's access has a limiter.
    expect(createWriteLimiter(cfg)).toBeUndefined();
  });
});
