// The configuration table of docs/configuration.md is generated from the settings objects (scripts/config-table.ts).
import type { Settings } from '../platform/config';

/** Rows for a documentation table: key, default, doc. */
export function describeSettings(settings: Settings): Array<{ key: string; default: string; doc: string }> {
  return Object.entries(settings).map(([key, s]) => ({ key, default: s.default, doc: s.doc }));
}
