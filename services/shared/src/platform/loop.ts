// A worker loop: run a step, then wait the interval unless the step asks to run again at once (a full
// batch). A failed step waits the interval too, or as long as onError says (a backoff). stop() wakes the
// wait and resolves once the step in flight has finished.
export type Step = () => Promise<boolean>;

export class Loop {
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly step: Step,
    private readonly intervalMs: number,
    /** Resolves with the wait before the next step (ms), or nothing for the interval. */
    private readonly onError: (err: unknown) => Promise<number | void> | number | void,
  ) {}

  /** A loop that runs `work` once per interval, never again at once (the relay's supervisor, janitor and Kafka watcher; the services' pruner). */
  static every(intervalMs: number, work: () => Promise<unknown>, onError: (err: unknown) => Promise<void> | void): Loop {
    return new Loop(
      async () => {
        await work();
        return false;
      },
      intervalMs,
      onError,
    );
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let again = false;
      let waitMs = this.intervalMs;
      try {
        again = await this.step();
      } catch (err) {
        waitMs = (await this.onError(err)) ?? this.intervalMs;
      }
      if (!again && !this.stopping) await this.sleep(waitMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
