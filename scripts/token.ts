// npm run -s token -- <customer> [--admin] [--expires <time span, e.g. 12h, 30m>]
// Prints a development JWT for a shopper (sub = the customer id, whose basket is /baskets/<customer>),
// signed with AUTH_JWT_SECRET for AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE, as the services verify it. It
// expires after --expires, 12 hours by default (AUTH_JWT_MAX_LIFETIME_S when shorter); a span longer than
// AUTH_JWT_MAX_LIFETIME_S, which the services would refuse, is refused here. With --admin the token acts
// for every customer. Production tokens come from the identity provider behind
// AUTH_JWKS_URL, not from here.
import { parseArgs } from 'node:util';
import { loadConfig, runAsScript } from '@qtshop/shared/platform';
import { BasketId } from '@qtshop/shared/events';
import { authSettings, issueToken } from '@qtshop/shared/http';

const USAGE = 'usage: npm run -s token -- <customer> [--admin] [--expires 12h]\n';

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { admin: { type: 'boolean' }, expires: { type: 'string' } } });
  const customer = positionals[0];
  if (positionals.length !== 1 || !BasketId.safeParse(customer).success) {
    process.stderr.write(`${USAGE}a customer id is 1-100 characters of A-Z, a-z, 0-9, _ and -\n`);
    return 2;
  }
  const cfg = loadConfig(authSettings);
  if (cfg.AUTH_JWKS_URL) {
    process.stderr.write('AUTH_JWKS_URL is set: tokens come from that identity provider, not from npm run token\n');
    return 2;
  }
  let token: string;
  try {
    token = await issueToken(cfg, customer!, { admin: values.admin ?? false, ...(values.expires ? { expiresIn: values.expires } : {}) });
  } catch (err) {
    // A span jose cannot read (TypeError), or one longer than AUTH_JWT_MAX_LIFETIME_S (RangeError).
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    process.stderr.write(`${USAGE}--expires: ${err.message}\n`);
    return 2;
  }
  process.stdout.write(`${token}\n`);
  return 0;
}

runAsScript(import.meta.url, 'token', main);
