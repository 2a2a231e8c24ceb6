// setCondition and applyStatus against the real API server: one write per change and none
// for a replay, lastTransitionTime semantics, Events on transitions, two field managers
// that each own their own condition, and writes only onto the Streamer the decision was made from.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isTransient } from '../../lib/events/errors.ts';
import { StatusConflictError } from '../../lib/status/apply-status.ts';
import { setCondition } from '../../lib/status/set-condition.ts';
import { useCluster } from '../cluster/shared.ts';
import { adminClient, createStreamer, eventsAbout, patchSpec, readStreamer } from './streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('set-condition');
const event = { reportingInstance: 'status-test', action: 'Probe' };
const ready = (status: 'True' | 'False' | 'Unknown', reason: string, message = `${reason} message`) => ({ type: 'StreamerReady', status, reason, message });
const at = (iso: string) => new Date(iso);

const set = suite('setCondition');

set('writes a new condition with observedGeneration, its fields, and a Normal Event', async () => {
  const streamer = await createStreamer(admin, { namespace, name: 'first' });
  const kube = await adminClient(cluster);
  const result = await setCondition({ kube, streamer, fieldManager: 'test-probe', input: ready('True', 'StatefulSetReady'), fields: { ready: true }, event, now: at('2026-01-14T10:00:00Z') });
  assert.ok(result.written);
  assert.ok(result.transitioned);
  assert.is(kube.stats().writes, 2, 'one status apply and one Event');
  const stored = await readStreamer(admin, namespace, 'first');
  assert.is(stored.status?.ready, true);
  assert.equal(stored.status?.conditions, [{
    type: 'StreamerReady', status: 'True', reason: 'StatefulSetReady', message: 'StatefulSetReady message',
    lastTransitionTime: '2026-01-14T10:00:00Z', observedGeneration: stored.metadata.generation,
  }]);
  const events = await eventsAbout(admin, stored);
  assert.equal(events, [{ reason: 'StatefulSetReady', type: 'Normal', note: 'StreamerReady is True: StatefulSetReady message', action: 'Probe' }]);
});

set('a replay of the same state costs zero requests', async () => {
  const streamer = await readStreamer(admin, namespace, 'first');
  const kube = await adminClient(cluster);
  const result = await setCondition({ kube, streamer, fieldManager: 'test-probe', input: ready('True', 'StatefulSetReady'), fields: { ready: true }, event, now: at('2026-01-14T12:00:00Z') });
  assert.not.ok(result.written);
  assert.equal(kube.stats(), { reads: 0, writes: 0 });
});

set('a new message with the same status writes once, keeps lastTransitionTime, records no Event', async () => {
  const streamer = await readStreamer(admin, namespace, 'first');
  const result = await setCondition({ kube: admin, streamer, fieldManager: 'test-probe', input: ready('True', 'StatefulSetReady', 'now 2 of 2'), fields: { ready: true }, event, now: at('2026-01-14T12:00:00Z') });
  assert.ok(result.written);
  assert.not.ok(result.transitioned);
  const stored = await readStreamer(admin, namespace, 'first');
  assert.is(stored.status?.conditions?.[0]?.message, 'now 2 of 2');
  assert.is(stored.status?.conditions?.[0]?.lastTransitionTime, '2026-01-14T10:00:00Z');
  assert.is((await eventsAbout(admin, stored)).length, 1);
});

set('a status flip moves lastTransitionTime and records a Warning Event', async () => {
  const streamer = await readStreamer(admin, namespace, 'first');
  await setCondition({ kube: admin, streamer, fieldManager: 'test-probe', input: ready('False', 'NoReadyReplicas'), fields: { ready: false }, event, now: at('2026-01-14T13:00:00Z') });
  const stored = await readStreamer(admin, namespace, 'first');
  assert.is(stored.status?.ready, false);
  assert.is(stored.status?.conditions?.[0]?.lastTransitionTime, '2026-01-14T13:00:00Z');
  const events = await eventsAbout(admin, stored);
  assert.equal(events.at(-1), { reason: 'NoReadyReplicas', type: 'Warning', note: 'StreamerReady is False: NoReadyReplicas message', action: 'Probe' });
});

set('a new generation alone writes observedGeneration once, lastTransitionTime kept', async () => {
  const before = await readStreamer(admin, namespace, 'first');
  const streamer = await patchSpec(admin, before, { publicUrl: 'https://example.com/a' });
  assert.is(streamer.metadata.generation, (before.metadata.generation ?? 0) + 1);
  const first = await setCondition({ kube: admin, streamer, fieldManager: 'test-probe', input: ready('False', 'NoReadyReplicas'), fields: { ready: false }, event, now: at('2026-01-14T14:00:00Z') });
  assert.ok(first.written);
  assert.not.ok(first.transitioned);
  const stored = await readStreamer(admin, namespace, 'first');
  assert.is(stored.status?.conditions?.[0]?.observedGeneration, streamer.metadata.generation);
  assert.is(stored.status?.conditions?.[0]?.lastTransitionTime, '2026-01-14T13:00:00Z');
  const again = await setCondition({ kube: admin, streamer: stored, fieldManager: 'test-probe', input: ready('False', 'NoReadyReplicas'), fields: { ready: false }, event });
  assert.not.ok(again.written);
});

set('two field managers own their own conditions: neither apply removes the other', async () => {
  const streamer = await createStreamer(admin, { namespace, name: 'shared' });
  await setCondition({ kube: admin, streamer, fieldManager: 'test-probe', input: ready('True', 'StatefulSetReady'), fields: { ready: true }, event });
  await setCondition({
    kube: admin, streamer: await readStreamer(admin, namespace, 'shared'), fieldManager: 'test-push',
    input: { type: 'StreamerConfigSaved', status: 'False', reason: 'Forbidden', message: 'HTTP 403' },
    fields: { configPush: { hash: 'sha256:abc', podUID: 'p', editAuthVersion: '1' } },
    event: { reportingInstance: 'status-test', action: 'Push' },
  });
  let stored = await readStreamer(admin, namespace, 'shared');
  assert.equal(stored.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort(), ['StreamerConfigSaved=False', 'StreamerReady=True']);
  assert.is(stored.status?.ready, true);
  await setCondition({ kube: admin, streamer: stored, fieldManager: 'test-probe', input: ready('False', 'NoReadyReplicas'), fields: { ready: false }, event });
  stored = await readStreamer(admin, namespace, 'shared');
  assert.equal(stored.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort(), ['StreamerConfigSaved=False', 'StreamerReady=False']);
  assert.equal(stored.status?.configPush, { hash: 'sha256:abc', podUID: 'p', editAuthVersion: '1' });
  assert.is(stored.status?.ready, false);
});

set('a decision made from a Streamer read before another write is refused (StatusConflictError): nothing written, no Event', async () => {
  const stale = await readStreamer(admin, namespace, 'shared');
  await setCondition({ kube: admin, streamer: stale, fieldManager: 'test-probe', input: ready('True', 'StatefulSetReady'), fields: { ready: true }, event });
  const after = await readStreamer(admin, namespace, 'shared');
  const events = (await eventsAbout(admin, after)).length;
  // push-config's view was read before probe's write.
  const error = await setCondition({
    kube: admin, streamer: stale, fieldManager: 'test-push',
    input: { type: 'StreamerConfigSaved', status: 'True', reason: 'ConfigSaved', message: 'saved' },
    fields: { configPush: { hash: 'sha256:def', podUID: 'p', editAuthVersion: '1' } },
    event: { reportingInstance: 'status-test', action: 'Push' },
  }).then(() => undefined, (e: unknown) => e);
  assert.instance(error, StatusConflictError);
  assert.is((error as StatusConflictError).code, 'STATUS_CONFLICT');
  assert.ok(isTransient(error), 'the Broker redelivers an event whose re-reads keep losing');
  const stored = await readStreamer(admin, namespace, 'shared');
  assert.is(stored.metadata.resourceVersion, after.metadata.resourceVersion);
  assert.is((await eventsAbout(admin, stored)).length, events);
  // The same decision from a fresh read lands.
  const again = await setCondition({
    kube: admin, streamer: stored, fieldManager: 'test-push',
    input: { type: 'StreamerConfigSaved', status: 'True', reason: 'ConfigSaved', message: 'saved' },
    fields: { configPush: { hash: 'sha256:def', podUID: 'p', editAuthVersion: '1' } },
    event: { reportingInstance: 'status-test', action: 'Push' },
  });
  assert.ok(again.written);
});

set('without precondition a stale baseline still writes (for an outcome that is safe whatever happened since)', async () => {
  const stale = await readStreamer(admin, namespace, 'shared');
  await setCondition({ kube: admin, streamer: stale, fieldManager: 'test-probe', input: ready('False', 'NoReadyReplicas'), fields: { ready: false }, event });
  const result = await setCondition({
    kube: admin, streamer: stale, fieldManager: 'test-push', precondition: false,
    input: { type: 'StreamerConfigSaved', status: 'Unknown', reason: 'Superseded', message: 'again' },
    fields: { configPush: { hash: 'sha256:def', podUID: 'p', editAuthVersion: '1' } },
    event: { reportingInstance: 'status-test', action: 'Push' },
  });
  assert.ok(result.written);
  const stored = await readStreamer(admin, namespace, 'shared');
  assert.equal(stored.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort(), ['StreamerConfigSaved=Unknown', 'StreamerReady=False']);
});

set.run();
