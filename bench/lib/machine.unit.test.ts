// The /proc readers the benchmarks measure CPU with.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { childProcessesCpu, processTitle } from './machine';

describe('childProcessesCpu', () => {
  it("lists a process's live children with their start time and own CPU, and the tree's CPU", async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
    await once(child, 'spawn');
    try {
      const mine = await childProcessesCpu(process.pid);
      const it = mine?.children.find((c) => c.pid === child.pid);
      expect(it).toEqual({ pid: child.pid, startTicks: expect.any(Number), ownMs: expect.any(Number) });
      expect(it!.startTicks).toBeGreaterThan(0);
      // The tree holds this process's own CPU, which is more than none by now.
      expect(mine!.treeMs).toBeGreaterThan(0);
      expect(await processTitle(child.pid!)).toBe(`${process.execPath} -e process.stdin.resume()`);
    } finally {
      child.kill();
      await once(child, 'exit');
    }
  });

  it('answers undefined for a process that is not running, and an empty title', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(gone, 'exit');
    expect(await childProcessesCpu(gone.pid!)).toBeUndefined();
    expect(await processTitle(gone.pid!)).toBe('');
  });
});
