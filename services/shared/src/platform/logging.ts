// Structured logs (pino). Every service and tool logs through this; LOG_LEVEL sets the level. A line logged
// inside a span (an HTTP request, a consumed event, see observability/tracing.ts) carries the span's trace_id and span_id,
// so the lines of one request can be found in every service it reached, and next to its trace.
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import { env, loadConfig } from './config';

export type { Logger };

export const loggingSettings = {
  LOG_LEVEL: {
    doc: 'pino log level: trace, debug, info, warn, error, fatal, silent',
    default: 'info',
    schema: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
  },
};

/**
 * The active span's ids as log fields (the pino mixin of every logger); none outside a span. A new object
 * each time: pino merges the line's own fields into what the mixin returns.
 */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const ids = trace.getSpan(context.active())?.spanContext();
  return ids && isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}

/** `destination`: where lines go (stdout when absent; tests pass a stream of their own). */
export function createLogger(name: string, level: string = loadConfig(loggingSettings).LOG_LEVEL, destination?: DestinationStream): Logger {
  const options = { name, level, mixin: traceFields };
  return destination ? pino(options, destination) : pino(options);
}
