import { ConfigError, env, loadConfig } from '@qtshop/shared/platform';
import { authSettings, httpSettings } from '@qtshop/shared/http';

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
    expect(loadConfig(settings, { NODE_ENV: 'production', ADMIN_TOKEN: 's3cret' })).toEqual({ ADMIN_TOKEN: 's3cret', HTTP_HOST: '127.0.0.1', LEVEL: 'info' });
  });
});

describe('AUTH_JWT_SECRET in production', () => {
  const prod = { NODE_ENV: 'production' };
  it('is refused at its development default while no AUTH_JWKS_URL is set', () => {
    expect(() => loadConfig(authSettings, prod)).toThrow(/AUTH_JWT_SECRET: is the development default/);
    expect(loadConfig(authSettings, { ...prod, AUTH_JWT_SECRET: 'an-operator-secret' }).AUTH_JWT_SECRET).toBe('an-operator-secret');
  });

  it('is not used, so not refused, when the keys come from AUTH_JWKS_URL', () => {
    expect(loadConfig(authSettings, { ...prod, AUTH_JWKS_URL: 'https://id.example/jwks.json' })).toMatchObject({
      AUTH_JWKS_URL: 'https://id.example/jwks.json',
    });
  });
});
