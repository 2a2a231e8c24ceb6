// readyCondition: the spec's StreamerReady table.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readyCondition, readyEventType, type StatefulSetRead } from '../../lib/probe-status/readiness.ts';

const set = (spec: Record<string, unknown>, status: Record<string, unknown>): StatefulSetRead => ({
  kind: 'found',
  statefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'cam-streamer' }, spec, status },
});

const cases: { name: string; read: StatefulSetRead; status: string; reason: string; message: RegExp }[] = [
  { name: 'one ready replica', read: set({ replicas: 1 }, { replicas: 1, readyReplicas: 1 }), status: 'True', reason: 'StatefulSetReady', message: /1 of 1 replicas ready/ },
  { name: 'readyReplicas absent (the API omits zero)', read: set({ replicas: 1 }, { replicas: 1 }), status: 'False', reason: 'NoReadyReplicas', message: /no ready replicas \(0 of 1\)/ },
  { name: 'readyReplicas 0', read: set({ replicas: 1 }, { readyReplicas: 0 }), status: 'False', reason: 'NoReadyReplicas', message: /no ready replicas/ },
  { name: 'no status at all yet', read: { kind: 'found', statefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'cam-streamer' } } }, status: 'False', reason: 'NoReadyReplicas', message: /0 of 1/ },
  { name: 'missing', read: { kind: 'missing' }, status: 'False', reason: 'StatefulSetNotFound', message: /StatefulSet cam-streamer was not found/ },
  { name: 'unreadable', read: { kind: 'unreadable', message: 'GET ... answered 403 Forbidden' }, status: 'Unknown', reason: 'StatefulSetUnreadable', message: /could not be read: GET \.\.\. answered 403 Forbidden/ },
];

const ready = suite('readyCondition');

for (const c of cases) {
  ready(`${c.name} → ${c.status}/${c.reason}`, () => {
    const condition = readyCondition({ name: 'cam-streamer', read: c.read });
    assert.is(condition.type, 'StreamerReady');
    assert.is(condition.status, c.status);
    assert.is(condition.reason, c.reason);
    assert.match(condition.message, c.message);
  });
}

ready('the same state gives the same message (so it costs no write)', () => {
  const read = set({ replicas: 1 }, { replicas: 1, readyReplicas: 1 });
  assert.equal(readyCondition({ name: 'x', read }), readyCondition({ name: 'x', read }));
});

// ---

const H = 'hash-of-generation-2';
const current = (status: Record<string, unknown> = {}, annotations: Record<string, string> = { 'streamer.flussonic.com/applied-hash': H }): StatefulSetRead => ({
  kind: 'found',
  statefulSet: {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'cam-streamer', generation: 3, annotations },
    spec: { replicas: 1 },
    status: { observedGeneration: 3, replicas: 1, readyReplicas: 1, currentRevision: 'cam-streamer-new', updateRevision: 'cam-streamer-new', ...status },
  },
});
const pod = (fields: { revision?: string; phase?: string; ready?: boolean; deleting?: boolean; conditions?: unknown[]; containerStatuses?: unknown[] } = {}) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name: 'cam-streamer-0', labels: { 'controller-revision-hash': fields.revision ?? 'cam-streamer-new' },
    ...(fields.deleting ? { deletionTimestamp: '2026-01-14T10:00:00Z' } : {}),
  },
  status: {
    phase: fields.phase ?? 'Running',
    conditions: fields.conditions ?? [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: fields.ready === false ? 'False' : 'True' }],
    ...(fields.containerStatuses ? { containerStatuses: fields.containerStatuses } : {}),
  },
});
const waiting = (reason: string, message = 'details') => [{ name: 'streamer', state: { waiting: { reason, message } } }];

const causes: { name: string; input: Omit<Parameters<typeof readyCondition>[0], 'name'>; status: string; reason: string; message: RegExp; warning: boolean }[] = [
  { name: 'the current generation, observed, its Pod on the update revision and ready', input: { read: current(), desiredHash: H, pod: pod() }, status: 'True', reason: 'StatefulSetReady', message: /1 of 1 replicas ready, on revision cam-streamer-new/, warning: false },
  { name: 'the StatefulSet still carries an older generation', input: { read: current({}, { 'streamer.flussonic.com/applied-hash': 'old' }), desiredHash: H, pod: pod() }, status: 'False', reason: 'StatefulSetOutdated', message: /does not carry this generation.*ChildrenReady/, warning: false },
  { name: 'the controller has not observed the new spec', input: { read: current({ observedGeneration: 2 }), desiredHash: H, pod: pod() }, status: 'False', reason: 'RollingOut', message: /has not observed its latest spec/, warning: false },
  { name: 'the old Pod still runs (ready) after a restart edit', input: { read: current({ currentRevision: 'cam-streamer-old' }), desiredHash: H, pod: pod({ revision: 'cam-streamer-old' }) }, status: 'False', reason: 'RollingOut', message: /still runs revision cam-streamer-old.*rolling out cam-streamer-new/, warning: false },
  { name: 'the old Pod is terminating', input: { read: current(), desiredHash: H, pod: pod({ deleting: true }) }, status: 'False', reason: 'RollingOut', message: /terminating/, warning: false },
  { name: 'no Pod yet', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: null }, status: 'False', reason: 'PodNotCreated', message: /has not created its Pod yet/, warning: false },
  { name: 'no Pod, and the controller says why (FailedCreate)', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: null, failedCreate: 'create Pod cam-streamer-0 failed: exceeded quota' }, status: 'False', reason: 'PodCreateFailed', message: /cannot create its Pod: create Pod cam-streamer-0 failed: exceeded quota/, warning: true },
  { name: 'unschedulable', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 node(s) didn\'t have free ports' }] }) }, status: 'False', reason: 'Unschedulable', message: /cannot be scheduled: 0\/1 nodes are available/, warning: true },
  { name: 'an image that cannot be pulled', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: pod({ phase: 'Pending', ready: false, containerStatuses: waiting('ImagePullBackOff', 'Back-off pulling image "flussonic/flussonic:nope"') }) }, status: 'False', reason: 'ImagePullFailed', message: /container streamer is waiting: ImagePullBackOff: Back-off pulling image/, warning: true },
  { name: 'a crash loop', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: pod({ ready: false, containerStatuses: [{ name: 'streamer', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, lastState: { terminated: { reason: 'Error', exitCode: 1 } } }] }) }, status: 'False', reason: 'ContainerFailing', message: /CrashLoopBackOff: back-off 10s \(last exit: Error, code 1\)/, warning: true },
  { name: 'a missing Secret for the env', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: pod({ phase: 'Pending', ready: false, containerStatuses: waiting('CreateContainerConfigError', 'secret "flussonic-license" not found') }) }, status: 'False', reason: 'ContainerFailing', message: /secret "flussonic-license" not found/, warning: true },
  { name: 'the container is being created', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: pod({ phase: 'Pending', ready: false, containerStatuses: waiting('ContainerCreating', '') }) }, status: 'False', reason: 'PodStarting', message: /is Pending/, warning: false },
  { name: 'running, not ready yet', input: { read: current({ readyReplicas: 0 }), desiredHash: H, pod: pod({ ready: false }) }, status: 'False', reason: 'NoReadyReplicas', message: /Running but not ready/, warning: false },
];

const why = suite('readyCondition: generations and causes');

for (const c of causes) {
  why(`${c.name} → ${c.status}/${c.reason} (${c.warning ? 'Warning' : 'Normal'})`, () => {
    const condition = readyCondition({ name: 'cam-streamer', ...c.input });
    assert.is(condition.status, c.status);
    assert.is(condition.reason, c.reason);
    assert.match(condition.message, c.message);
    assert.is(readyEventType(condition.reason), c.warning ? 'Warning' : 'Normal');
  });
}

why('not-yet states are Normal, so a healthy create raises no Warning', () => {
  for (const reason of ['StatefulSetNotFound', 'StatefulSetOutdated', 'RollingOut', 'PodNotCreated', 'PodStarting', 'NoReadyReplicas', 'StatefulSetReady'] as const) {
    assert.is(readyEventType(reason), 'Normal', reason);
  }
  assert.is(readyEventType('StatefulSetUnreadable'), 'Warning');
});

ready.run();
why.run();
