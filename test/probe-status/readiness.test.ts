// readyCondition: the spec's StreamerReady table.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readyCondition, type StatefulSetRead } from '../../lib/probe-status/readiness.ts';

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

ready.run();
