// Plain-text tables for the terminal: the stack's status and npm start's summary.

/** Each row as one line, its columns padded to the widest cell and separated by two spaces. */
export function formatTable(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  '));
}
