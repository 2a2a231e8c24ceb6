import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createWorkGate, GateFullError } from '../../lib/runtime/work-gate.ts';
import { runtimeSettings } from '../../lib/runtime/register.ts';

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
  assert.equal(work.stats(), { running: 0, waiting: 0, maxRunning: 3, mostWaiting: 9, refused: 0 });
});

gate('holds at most `maxWaiting` runs waiting: the next is refused at once, without running, and a freed place is taken again', async () => {
  const work = createWorkGate(2, { maxWaiting: 3 });
  const release: (() => void)[] = [];
  const ran: number[] = [];
  const hold = (i: number) => work.run(() => new Promise<number>((resolve) => {
    ran.push(i);
    release.push(() => resolve(i));
  }));
  const admitted = [0, 1, 2, 3, 4].map(hold); // two running, three waiting
  await tick();
  assert.equal(ran, [0, 1]);
  const refused = await hold(5).then(() => 'ran', (error: unknown) => error);
  assert.instance(refused, GateFullError);
  assert.is((refused as GateFullError).code, 'EVENTS_WAITING_FULL');
  assert.equal(work.stats(), { running: 2, waiting: 3, maxRunning: 2, mostWaiting: 3, refused: 1 });
  release.shift()!(); // run 0 ends: run 2 takes its slot, a waiting place is free again
  await tick();
  const late = hold(6);
  await tick();
  while (release.length) {
    release.shift()!();
    await tick();
  }
  assert.equal(await Promise.all([...admitted, late]), [0, 1, 2, 3, 4, 6]);
  assert.equal(ran, [0, 1, 2, 3, 4, 6]);
  assert.equal(work.stats(), { running: 0, waiting: 0, maxRunning: 2, mostWaiting: 3, refused: 1 });
});

gate('maxWaiting 0 refuses whatever finds every slot taken', async () => {
  const work = createWorkGate(1, { maxWaiting: 0 });
  let release!: () => void;
  const first = work.run(() => new Promise<void>((resolve) => (release = resolve)));
  assert.instance(await work.run(async () => 'ran').catch((error: unknown) => error), GateFullError);
  release();
  await first;
  assert.is(await work.run(async () => 'free again'), 'free again');
});

gate('rejects a limit below 1 or not an integer, and a negative or fractional maxWaiting', () => {
  for (const limit of [0, -2, 2.5]) assert.throws(() => createWorkGate(limit), RangeError);
  for (const maxWaiting of [-1, 1.5]) assert.throws(() => createWorkGate(1, { maxWaiting }), RangeError);
});

gate('the process gate holds ten waiting events per slot unless MAX_EVENTS_WAITING says otherwise', () => {
  assert.equal([runtimeSettings({}).eventsInFlight, runtimeSettings({}).eventsWaiting], [10, 100]);
  assert.is(runtimeSettings({ MAX_EVENTS_IN_FLIGHT: '4' }).eventsWaiting, 40);
  assert.is(runtimeSettings({ MAX_EVENTS_IN_FLIGHT: '4', MAX_EVENTS_WAITING: '0' }).eventsWaiting, 0);
});

gate.run();
