// Structured logs (pino). Every service and tool logs through this; LOG_LEVEL sets the level.
import { pino, type Logger } from 'pino';
import { env, loadConfig } from './config';

export type { Logger };

export const loggingSettings = {
  LOG_LEVEL: {
    doc: 'pino log level: trace, debug, info, warn, error, fatal, silent',
    default: 'info',
    schema: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
  },
};

export function createLogger(name: string, level: string = loadConfig(loggingSettings).LOG_LEVEL): Logger {
  return pino({ name, level });
}
