import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createKeyedQueue } from '../../lib/runtime/keyed-queue.ts';

/** Runs that record whether they waited and answer how many runs there were by then. */
function recordingRuns() {
  const calls: boolean[] = [];
  const run = (wait?: Promise<void>) => async (waited: boolean) => {
    calls.push(waited);
    await wait;
    return calls.length;
  };
  return { calls, run };
}

const queue = suite('createKeyedQueue');

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

queue('runs tasks of one key one at a time, and different keys at once', async () => {
  const enqueue = createKeyedQueue();
  let inFlight = 0;
  let most = 0;
  const first = gate();
  const task = (wait?: Promise<void>) => async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    await wait;
    inFlight--;
  };
  const a1 = enqueue('a', task(first.opened));
  const b1 = enqueue('b', task());
  await b1;
  assert.is(most, 2); // a and b overlapped
  const a2 = enqueue('a', task());
  first.open();
  await Promise.all([a1, a2]);
  assert.is(inFlight, 0);
});

queue('events arriving while one waits join the waiting run, which starts after the current one', async () => {
  const enqueue = createKeyedQueue();
  const first = gate();
  const { calls, run } = recordingRuns();
  const current = enqueue('k', run(first.opened));
  const waiting = enqueue('k', run());
  const joined = [enqueue('k', run()), enqueue('k', run())];
  first.open();
  const results = await Promise.all([current, waiting, ...joined]);
  assert.equal(calls, [false, true]); // two runs, the second told it waited
  assert.equal(results.map((r) => r.coalesced), [false, false, true, true]);
  assert.equal(results.map((r) => r.value), [1, 2, 2, 2]);
});

queue('a joiner of a waiting run whose caller is retried (an event\'s) answers at once; the run still happens once', async () => {
  const enqueue = createKeyedQueue();
  const first = gate();
  const { calls, run } = recordingRuns();
  const current = enqueue('k', run(first.opened), { retried: true });
  const waiting = enqueue('k', run(), { retried: true });
  let settled = false;
  const joined = enqueue('k', run(), { retried: true }).then((r) => ((settled = true), r));
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(settled, 'answered before the current run ended');
  assert.equal(await joined, { value: undefined, waited: false, coalesced: true, atOnce: true });
  // A tick joining that run answers at once too; its Streamer is covered by the same run.
  assert.equal((await enqueue('k', run())).coalesced, true);
  first.open();
  assert.equal([(await current).value, (await waiting).value], [1, 2]);
  assert.equal(calls, [false, true], 'two runs, no more');
});

queue('a joiner of a tick\'s waiting run (nobody retries it) waits for it and shares its error', async () => {
  const enqueue = createKeyedQueue();
  const first = gate();
  const current = enqueue('k', async () => first.opened);
  const waiting = enqueue('k', async () => {
    throw new Error('tick run failed');
  });
  let settled = false;
  const joined = enqueue('k', async () => 'never', { retried: true }).finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.not.ok(settled, 'still waiting');
  first.open();
  await current;
  await waiting.catch(() => undefined);
  await joined.then(() => assert.unreachable('shares the failure'), (e: Error) => assert.is(e.message, 'tick run failed'));
});

queue('a failing run does not block the next, and its error reaches only its callers', async () => {
  const enqueue = createKeyedQueue();
  const failing = enqueue('k', async () => {
    throw new Error('boom');
  });
  const next = enqueue('k', async () => 'ok');
  await failing.catch((e: Error) => assert.is(e.message, 'boom'));
  assert.is((await next).value, 'ok');
});

queue.run();
