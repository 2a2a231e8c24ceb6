import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runBounded } from '../../lib/events/run-bounded.ts';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const bounded = suite('runBounded');

bounded('runs every item once and never more than `concurrency` at a time', async () => {
  const items = Array.from({ length: 25 }, (_, i) => i);
  let inFlight = 0;
  let maxInFlight = 0;
  const seen: number[] = [];
  const summary = await runBounded(
    items,
    async (item) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      for (let i = 0; i < 1 + (item % 4); i++) await tick();
      seen.push(item);
      inFlight--;
    },
    { concurrency: 4 },
  );
  assert.is(maxInFlight, 4);
  assert.equal([...seen].sort((a, b) => a - b), items);
  assert.equal(summary, { ok: 25, failed: 0, skipped: 0, errors: [] });
});

bounded('starts nothing after the deadline; what never started is counted as skipped', async () => {
  let clock = 0;
  const started: number[] = [];
  const summary = await runBounded(
    [1, 2, 3, 4, 5, 6],
    async (item) => {
      started.push(item);
      await tick();
      clock += 10; // each task takes 10 "ms"
    },
    { concurrency: 2, deadline: 25, now: () => clock },
  );
  // 1 and 2 start at 0; 3 and 4 at 10 and 20; at 30 and 40 the deadline has passed.
  assert.equal(started, [1, 2, 3, 4]);
  assert.equal([summary.ok, summary.failed, summary.skipped], [4, 0, 2]);
});

bounded('no deadline runs everything', async () => {
  const summary = await runBounded([1, 2, 3], async () => {}, { concurrency: 1, now: () => Number.MAX_SAFE_INTEGER });
  assert.equal([summary.ok, summary.skipped], [3, 0]);
});

bounded('collects failures without stopping the other items', async () => {
  const done: number[] = [];
  const summary = await runBounded(
    [1, 2, 3, 4, 5],
    async (item) => {
      await tick();
      if (item % 2 === 0) throw new Error(`item ${item} failed`);
      done.push(item);
    },
    { concurrency: 2 },
  );
  assert.equal(done.sort(), [1, 3, 5]);
  assert.is(summary.ok, 3);
  assert.is(summary.failed, 2);
  assert.equal(summary.errors.map((e) => [e.item, (e.error as Error).message]).sort(), [
    [2, 'item 2 failed'],
    [4, 'item 4 failed'],
  ]);
});

bounded('an empty list resolves at once', async () => {
  assert.equal(await runBounded([], async () => {}, { concurrency: 3 }), { ok: 0, failed: 0, skipped: 0, errors: [] });
});

bounded('rejects a concurrency below 1 or not an integer', async () => {
  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    try {
      await runBounded([1], async () => {}, { concurrency });
      assert.unreachable(`accepted concurrency ${concurrency}`);
    } catch (error) {
      assert.instance(error, RangeError);
    }
  }
});

bounded.run();
