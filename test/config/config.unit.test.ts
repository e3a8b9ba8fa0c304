import { ConfigError, env, httpSettings, loadConfig } from '@qtshop/shared';

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
