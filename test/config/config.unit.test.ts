import { ConfigError, env, loadConfig } from '@qtshop/shared/platform';
import { ADMIN_TOKEN_MIN_LENGTH, authSettings, httpSettings, JWT_SECRET_MIN_BYTES } from '@qtshop/shared/http';

const settings = {
  ADMIN_TOKEN: httpSettings.ADMIN_TOKEN,
  HTTP_HOST: httpSettings.HTTP_HOST,
  LEVEL: { doc: 'an ordinary setting', default: 'info', schema: env.string() },
};

describe('loadConfig', () => {
  it('takes development defaults outside production', () => {
    expect(loadConfig(settings, {})).toEqual({ ADMIN_TOKEN: 'dev-admin-token', HTTP_HOST: '127.0.0.1', LEVEL: 'info' });
    expect(loadConfig(settings, { NODE_ENV: 'test' }).ADMIN_TOKEN).toBe('dev-admin-token');
  });

  it('refuses a development default with NODE_ENV=production, naming the variable', () => {
    expect(() => loadConfig(settings, { NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig(settings, { NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN: is the development default/);
    // Set to the default value explicitly is the same default.
    expect(() => loadConfig(settings, { NODE_ENV: 'production', ADMIN_TOKEN: 'dev-admin-token' })).toThrow(/ADMIN_TOKEN/);
  });

  it('accepts a secret of the operator in production; ordinary defaults still apply', () => {
    const token = 'an-operator-secret-of-32-chars!!';
    expect(loadConfig(settings, { NODE_ENV: 'production', ADMIN_TOKEN: token })).toEqual({ ADMIN_TOKEN: token, HTTP_HOST: '127.0.0.1', LEVEL: 'info' });
  });

  it(`refuses in production, and only there, an ADMIN_TOKEN shorter than ${ADMIN_TOKEN_MIN_LENGTH} characters, naming it but not its value`, () => {
    const short = 'x'.repeat(ADMIN_TOKEN_MIN_LENGTH - 1);
    expect(() => loadConfig(settings, { NODE_ENV: 'production', ADMIN_TOKEN: short })).toThrow(ConfigError);
    expect(() => loadConfig(settings, { NODE_ENV: 'production', ADMIN_TOKEN: short })).toThrow(
      /ADMIN_TOKEN: is shorter than 32 characters.*\(NODE_ENV=production refuses it\)$/,
    );
    expect(() => loadConfig(settings, { NODE_ENV: 'production', ADMIN_TOKEN: short })).not.toThrow(new RegExp(short));
    expect(loadConfig(settings, { ADMIN_TOKEN: 's3cret' }).ADMIN_TOKEN).toBe('s3cret');
    expect(loadConfig(settings, { NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(ADMIN_TOKEN_MIN_LENGTH) }).ADMIN_TOKEN).toHaveLength(32);
  });

  it("runs a setting's production check on the value given, with the environment, in production only", () => {
    const seen: Array<[string, string | undefined]> = [];
    const checked = {
      KEY: {
        doc: 'a checked setting',
        default: 'fine',
        schema: env.string(),
        production: (v: string, e: NodeJS.ProcessEnv) => (seen.push([v, e.OTHER]), v === 'bad' ? 'is bad' : undefined),
      },
      UNSET: { doc: 'unset by default', default: '', schema: env.string().optional(), production: () => 'is never checked while unset' },
    };
    expect(() => loadConfig(checked, { NODE_ENV: 'production', KEY: 'bad', OTHER: 'o' })).toThrow(
      'invalid configuration: KEY: is bad (NODE_ENV=production refuses it)',
    );
    expect(loadConfig(checked, { NODE_ENV: 'production' })).toEqual({ KEY: 'fine', UNSET: undefined });
    expect(loadConfig(checked, { KEY: 'bad' }).KEY).toBe('bad');
    expect(seen).toEqual([
      ['bad', 'o'],
      ['fine', undefined],
    ]);
  });
});

describe('AUTH_JWT_SECRET in production', () => {
  const prod = { NODE_ENV: 'production' };
  const secret = 's'.repeat(JWT_SECRET_MIN_BYTES);
  it('is refused at its development default while no AUTH_JWKS_URL is set', () => {
    expect(() => loadConfig(authSettings, prod)).toThrow(/AUTH_JWT_SECRET: is the development default/);
    expect(loadConfig(authSettings, { ...prod, AUTH_JWT_SECRET: secret }).AUTH_JWT_SECRET).toBe(secret);
  });

  it(`is refused shorter than ${JWT_SECRET_MIN_BYTES} bytes (UTF-8, not characters) while no AUTH_JWKS_URL is set; any length outside production`, () => {
    expect(() => loadConfig(authSettings, { ...prod, AUTH_JWT_SECRET: 'an-operator-secret' })).toThrow(
      /AUTH_JWT_SECRET: is shorter than 32 bytes.*\(NODE_ENV=production refuses it\)$/,
    );
    expect(() => loadConfig(authSettings, { ...prod, AUTH_JWT_SECRET: 's'.repeat(JWT_SECRET_MIN_BYTES - 1) })).toThrow(/AUTH_JWT_SECRET/);
    expect(loadConfig(authSettings, { ...prod, AUTH_JWT_SECRET: 'é'.repeat(JWT_SECRET_MIN_BYTES / 2) }).AUTH_JWT_SECRET).toHaveLength(16);
    expect(loadConfig(authSettings, { AUTH_JWT_SECRET: 'short' }).AUTH_JWT_SECRET).toBe('short');
  });

  it('is not used, so not refused, when the keys come from AUTH_JWKS_URL', () => {
    expect(loadConfig(authSettings, { ...prod, AUTH_JWKS_URL: 'https://id.example/jwks.json' })).toMatchObject({
      AUTH_JWKS_URL: 'https://id.example/jwks.json',
    });
    expect(loadConfig(authSettings, { ...prod, AUTH_JWKS_URL: 'https://id.example/jwks.json', AUTH_JWT_SECRET: 'short' }).AUTH_JWT_SECRET).toBe('short');
  });
});

describe('AUTH_JWKS_URL in production', () => {
  const prod = { NODE_ENV: 'production' };
  it.each(['http://id.example/jwks.json', 'ftp://id.example/jwks.json'])('refuses %s: only https:// in production', (url) => {
    expect(() => loadConfig(authSettings, { ...prod, AUTH_JWKS_URL: url })).toThrow(
      /AUTH_JWKS_URL: is not an https:\/\/ URL.*\(NODE_ENV=production refuses it\)$/,
    );
  });

  it('takes an http:// URL outside production (a local provider, tests)', () => {
    expect(loadConfig(authSettings, { AUTH_JWKS_URL: 'http://127.0.0.1:8080/jwks.json' }).AUTH_JWKS_URL).toBe('http://127.0.0.1:8080/jwks.json');
  });
});

describe('AUTH_JWT_MAX_LIFETIME_S', () => {
  it('is a day by default, and a positive number of seconds', () => {
    expect(loadConfig(authSettings, {}).AUTH_JWT_MAX_LIFETIME_S).toBe(86_400);
    expect(loadConfig(authSettings, { AUTH_JWT_MAX_LIFETIME_S: '3600' }).AUTH_JWT_MAX_LIFETIME_S).toBe(3600);
    expect(() => loadConfig(authSettings, { AUTH_JWT_MAX_LIFETIME_S: '0' })).toThrow(/AUTH_JWT_MAX_LIFETIME_S/);
  });
});
