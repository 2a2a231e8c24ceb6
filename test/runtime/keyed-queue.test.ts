import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createKeyedQueue } from '../../lib/runtime/keyed-queue.ts';

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
  const calls: boolean[] = [];
  const run = (wait?: Promise<void>) => async (waited: boolean) => {
    calls.push(waited);
    await wait;
    return calls.length;
  };
  const current = enqueue('k', run(first.opened));
  const waiting = enqueue('k', run());
  const joined = [enqueue('k', run()), enqueue('k', run())];
  first.open();
  const results = await Promise.all([current, waiting, ...joined]);
  assert.equal(calls, [false, true]); // two runs, the second told it waited
  assert.equal(results.map((r) => r.coalesced), [false, false, true, true]);
  assert.equal(results.map((r) => r.value), [1, 2, 2, 2]);
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
