// Waiting for a condition with a deadline: tests, readiness, tools. Never a bare sleep.
export class TimeoutError extends Error {}

/** Thrown by a probe when waiting longer cannot help (the process exited, the task failed): ends the wait at once. */
export class GiveUp extends Error {}

export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false | null>,
  opts: { timeoutMs: number; everyMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false && v !== null) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new TimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}
