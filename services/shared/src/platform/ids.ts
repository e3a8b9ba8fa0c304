// Identifiers: event ids and aggregate ids are UUIDs (any version, either case).

/** A UUID in its canonical text form. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string | null | undefined): s is string => typeof s === 'string' && UUID.test(s);
