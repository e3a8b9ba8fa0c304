// A stock item's version as a client holds it: the strong ETag "<version>" of GET /inventory/:productId, sent
// back in If-Match to change the item only if nobody changed it meanwhile. Pure; unit-tested. The check is
// made on the version read under the item's row lock, so check and change are one atomic step.

/** The strong ETag of a stock item's version. */
export const etagOf = (version: number): string => `"${version}"`;

/**
 * Whether an If-Match header lets a change of the item at `version` proceed (RFC 9110 13.1.1): no header
 * or `*` (any existing item) proceeds; otherwise one of its comma-separated entity tags must be the item's
 * strong ETag. A weak tag (W/"3") never matches (If-Match compares strongly), and a malformed header
 * matches nothing: both are stale.
 */
export function ifMatch(header: string | undefined, version: number): 'proceed' | 'stale' {
  if (header === undefined || header.trim() === '*') return 'proceed';
  return header.split(',').some((tag) => tag.trim() === etagOf(version)) ? 'proceed' : 'stale';
}
