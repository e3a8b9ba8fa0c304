// A worker loop: run a step, then wait the interval unless the step asks to run again at once (a full
// batch). stop() wakes the wait and resolves once the step in flight has finished.
export type Step = () => Promise<boolean>;

export class Loop {
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly step: Step,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => Promise<void> | void,
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
      try {
        again = await this.step();
      } catch (err) {
        await this.onError(err);
      }
      if (!again && !this.stopping) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), this.intervalMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
