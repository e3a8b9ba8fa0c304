// Plain-text tables for the terminal: the stack's status, npm start's summary and npm run status.

/**
 * Each row as one line, its columns padded to the widest cell and separated by two spaces. `style`, when
 * given, wraps each padded cell (e.g. in ANSI colour), so escape codes never upset the widths.
 */
export function formatTable(rows: string[][], style?: (cell: string, row: number, col: number) => string): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r, ri) =>
    r
      .map((v, i) => {
        const padded = v.padEnd(widths[i] ?? 0);
        return style ? style(padded, ri, i) : padded;
      })
      .join('  '),
  );
}
