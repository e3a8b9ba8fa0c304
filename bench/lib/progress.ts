// One progress line on stderr, rewritten in place while a benchmark runs (on a terminal); `note` prints a
// permanent line above it. Off a terminal (CI, jest) only the permanent lines are printed.
export class Progress {
  private last = 0;
  private shown = false;
  private readonly tty: boolean;

  constructor(
    private readonly enabled = true,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Rewrites the progress line (at most ~8 times a second unless `force`). */
  update(text: string, force = false): void {
    if (!this.enabled || !this.tty) return;
    const now = Date.now();
    if (!force && now - this.last < 125) return;
    this.last = now;
    const width = this.stream.columns ? this.stream.columns - 1 : 160;
    this.stream.write(`\r\x1b[2K${text.length > width ? text.slice(0, width) : text}`);
    this.shown = true;
  }

  /** A permanent line (a finished scenario, a warning). */
  note(text: string): void {
    if (!this.enabled) return;
    this.clear();
    this.stream.write(`${text}\n`);
  }

  clear(): void {
    if (this.shown && this.tty) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
