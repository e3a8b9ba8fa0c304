// The settings every HTTP service shares: the admin token, the bind address, the body limit and how the
// server stops (the drain a signal begins, then the grace for requests in flight).
import { env } from '../platform/config';
import type { ShutdownTiming } from '../platform/lifecycle';

/** The shortest ADMIN_TOKEN a service accepts with NODE_ENV=production (characters). */
export const ADMIN_TOKEN_MIN_LENGTH = 32;

/** Settings every HTTP service shares. */
export const httpSettings = {
  ADMIN_TOKEN: {
    doc: `Bearer token for write endpoints (Authorization: Bearer <token>), which also acts for every customer on shoppers' routes; with NODE_ENV=production the service refuses to start with the development default or a token shorter than ${ADMIN_TOKEN_MIN_LENGTH} characters`,
    default: 'dev-admin-token',
    schema: env.string(),
    devDefault: true,
    production: (v: string) =>
      v.length < ADMIN_TOKEN_MIN_LENGTH
        ? `is shorter than ${ADMIN_TOKEN_MIN_LENGTH} characters; set ADMIN_TOKEN to a random secret at least that long, which openssl rand -hex 32 prints`
        : undefined,
  },
  HTTP_DRAIN_DELAY_MS: {
    doc: 'On SIGTERM the server first drains for this long, serving as usual, before it stops accepting: /ready answers 503 so that load balancers and clients watching it stop sending, and every response carries Connection: close so that keep-alive clients send their next request on a fresh connection instead of one the server is about to close under them',
    default: '5000',
    schema: env.int(0),
  },
  HTTP_SHUTDOWN_GRACE_MS: {
    doc: 'After the drain the server stops accepting and lets requests in flight finish for up to this long before it closes their connections. A stop still unfinished 5 s after drain and grace (consumers, pools, spans) ends with exit code 1',
    default: '10000',
    schema: env.int(0),
  },
  HTTP_HOST: {
    doc: 'Address the HTTP server binds: loopback for npm start; 0.0.0.0 (all interfaces) in a container, whose published port is reached through another interface',
    default: '127.0.0.1',
    schema: env.string(),
  },
  HTTP_BODY_LIMIT: { doc: 'Largest accepted JSON request body', default: '64kb', schema: env.string() },
};

/** The shutdown timing httpSettings set (HTTP_DRAIN_DELAY_MS, HTTP_SHUTDOWN_GRACE_MS). */
export const httpShutdown = (c: { HTTP_DRAIN_DELAY_MS: number; HTTP_SHUTDOWN_GRACE_MS: number }): ShutdownTiming => ({
  drainDelayMs: c.HTTP_DRAIN_DELAY_MS,
  graceMs: c.HTTP_SHUTDOWN_GRACE_MS,
});
