import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorkGate } from '../../lib/runtime/work-gate.ts';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const gate = suite('createWorkGate');

gate('runs at most `limit` at once, every run in arrival order, and passes results and errors through', async () => {
  const work = createWorkGate(3);
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  const runs = Array.from({ length: 12 }, (_, i) =>
    work.run(async () => {
      started.push(i);
      inFlight++;
      most = Math.max(most, inFlight);
      for (let t = 0; t < 1 + (i % 3); t++) await tick();
      inFlight--;
      if (i === 5) throw new Error('five');
      return i * 10;
    }),
  );
  const results = await Promise.allSettled(runs);
  assert.is(most, 3);
  assert.equal(started, Array.from({ length: 12 }, (_, i) => i));
  assert.equal(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [0, 10, 20, 30, 40, 'five', 60, 70, 80, 90, 100, 110]);
  assert.equal(work.stats(), { running: 0, waiting: 0, maxRunning: 3 });
});

gate('rejects a limit below 1 or not an integer', () => {
  for (const limit of [0, -2, 2.5]) assert.throws(() => createWorkGate(limit), RangeError);
});

gate.run();
