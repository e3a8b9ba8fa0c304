// Whether a consumer is doing its job (runner.ts): consuming, not merely "process up". kafkajs can stop
// consuming while its process lives on: a crash it will not restart from (a non-retriable error out of a
// batch), a restart loop that never gets going, a fetch loop that no longer completes. The runner feeds
// this from kafkajs's instrumentation events and its own batches; problem() is what /ready says and
// stalled() is when the runner restarts the consumer itself. Pure apart from the clock it is given.

export type ConsumerPhase = 'starting' | 'consuming' | 'crashed' | 'restarting' | 'stopped';

export class ConsumerLiveness {
  phase: ConsumerPhase = 'starting';
  /** What the phase is about (the crash, the restart), one sentence. */
  detail = 'joining its group';
  /** When the last fetch completed, or the phase last changed (epoch ms). */
  lastFetchAt: number;
  /** Partitions assigned at the last join. */
  assigned = 0;
  /** Batches being processed now (a batch may wait out a database outage for as long as it lasts). */
  private busy = 0;

  constructor(now: number) {
    this.lastFetchAt = now;
  }

  set(phase: ConsumerPhase, detail: string, now: number): void {
    this.phase = phase;
    this.detail = detail;
    this.lastFetchAt = now;
  }

  joined(assigned: number, now: number): void {
    this.assigned = assigned;
    this.set('consuming', `consuming ${assigned} partition(s)`, now);
  }

  fetched(now: number): void {
    this.lastFetchAt = now;
    // A fetch completed: it joined (a GROUP_JOIN may have come before the phase was set), or kafkajs restarted it.
    if (this.phase === 'crashed' || this.phase === 'starting') this.set('consuming', `consuming ${this.assigned} partition(s)`, now);
  }

  enterBatch(): void {
    this.busy += 1;
  }

  leaveBatch(now: number): void {
    this.busy = Math.max(0, this.busy - 1);
    this.lastFetchAt = now;
  }

  /**
   * True when the consumer should be restarted by the runner: it has partitions, is not inside a batch
   * (which may legitimately wait out an outage), and nothing completed for `stallMs` — whether kafkajs
   * thinks it is consuming or is meant to be restarting it.
   */
  stalled(now: number, stallMs: number): boolean {
    if (this.phase !== 'consuming' && this.phase !== 'crashed') return false;
    if (this.busy > 0) return false;
    if (this.phase === 'consuming' && this.assigned === 0) return false;
    return now - this.lastFetchAt > stallMs;
  }

  /** What keeps /ready red, or undefined while it consumes. */
  problem(now: number): string | undefined {
    if (this.phase === 'consuming') return undefined;
    const forS = Math.round((now - this.lastFetchAt) / 1000);
    return `not consuming (${this.phase} for ${forS} s): ${this.detail}`;
  }
}
