// Observability: spans (tracing) and the W3C traceparent on the wire.
export * from './tracing';
export * from './traceparent';
