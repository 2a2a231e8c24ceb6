// An adapter Deployment's update means "resync" only once its rollout is complete
// (lib/events/source-rollout.ts), and the handler reads the Deployment before it decides.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeEventHandler, type EventLogLine } from '../../lib/events/handler.ts';
import { adapterRolledOut, ADAPTER_LABEL, ADAPTER_LABEL_VALUE } from '../../lib/events/source-rollout.ts';
import { fakeReader } from './fake-reader.ts';

const adapter = (status: Record<string, number>, { generation = 2, labelled = true, replicas = 1 } = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'apiserversource-streamers-0a1b', namespace: 'streamer-operator-system', generation, labels: labelled ? { [ADAPTER_LABEL]: ADAPTER_LABEL_VALUE } : {} },
  spec: { replicas },
  status,
});
const done = { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 };

const rollout = suite('adapterRolledOut');

rollout('true once every replica is updated and available and no old one is left', () => {
  assert.ok(adapterRolledOut(adapter(done)));
  assert.ok(adapterRolledOut(adapter({ ...done, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, { replicas: 2 })));
});

rollout('false during a rollout: new spec not observed, old Pod still there, new Pod not available', () => {
  assert.not.ok(adapterRolledOut(adapter({ ...done, observedGeneration: 1 })));
  assert.not.ok(adapterRolledOut(adapter({ ...done, replicas: 2 })));
  assert.not.ok(adapterRolledOut(adapter({ ...done, availableReplicas: 0 })));
  assert.not.ok(adapterRolledOut(adapter({ ...done, updatedReplicas: 0 })));
});

rollout('false for an adapter being deleted (its source was deleted)', () => {
  const deleting = adapter(done);
  (deleting.metadata as { deletionTimestamp?: string }).deletionTimestamp = '2026-12-02T16:00:00Z';
  assert.not.ok(adapterRolledOut(deleting));
});

rollout('false for a Deployment Knative\'s source controller did not make, and for none', () => {
  assert.not.ok(adapterRolledOut(adapter(done, { labelled: false })));
  assert.not.ok(adapterRolledOut(null));
});

rollout.run();

const handler = suite('the handler on an adapter Deployment event');

/** One replica's handler over `objects` (changed in place between deliveries), counting its work. */
function replica(objects: Record<string, unknown>[]) {
  const lines: EventLogLine[] = [];
  const counts = { rollouts: 0, resyncs: 0 };
  const reader = fakeReader(objects);
  const handle = makeEventHandler({
    name: 'test', reader, log: (l) => lines.push(l),
    onObject: async () => assert.unreachable('no Streamer work'),
    onResync: async () => void counts.resyncs++,
    onSourceRollout: async () => void counts.rollouts++,
  });
  return async function deliver() {
    const res = { statusCode: 0, setHeader: () => undefined, end: () => undefined };
    await handle({
      method: 'POST', headers: {
        'ce-specversion': '1.0', 'ce-id': crypto.randomUUID(), 'ce-source': 'https://10.96.0.1:443', 'ce-type': 'dev.knative.apiserver.ref.update',
        'ce-kind': 'Deployment', 'ce-name': 'apiserversource-streamers-0a1b', 'ce-namespace': 'streamer-operator-system', 'ce-apiversion': 'apps/v1', 'content-type': 'application/json',
      },
      body: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'apiserversource-streamers-0a1b', namespace: 'streamer-operator-system' },
    }, res);
    return { status: res.statusCode, ...counts, reads: reader.reads.length, line: lines.at(-1) };
  };
}

const deliver = (objects: Record<string, unknown>[]) => replica(objects)();

handler('rolled out: reads the Deployment, then the rollout work runs (204)', async () => {
  const r = await deliver([adapter(done)]);
  assert.equal([r.status, r.rollouts, r.resyncs, r.reads], [204, 1, 0, 1]);
  assert.is(r.line?.outcome, 'done');
});

handler('still rolling, or gone: answered 204 with no work', async () => {
  for (const objects of [[adapter({ ...done, replicas: 2 })], []]) {
    const r = await deliver(objects);
    assert.equal([r.status, r.rollouts, r.resyncs], [204, 0, 0]);
    assert.is(r.line?.outcome, 'ignored');
  }
});

handler('the same rolled-out state sent again runs no work; a new state of the Deployment does, once', async () => {
  const deployment = adapter(done);
  Object.assign(deployment.metadata, { uid: 'd-1', resourceVersion: '4739' });
  const send = replica([deployment]);
  assert.is((await send()).rollouts, 1);
  const repeat = await send();
  assert.equal([repeat.status, repeat.rollouts, repeat.line?.outcome, repeat.line?.reason], [204, 1, 'ignored', 'already resynced for this rollout']);
  // The adapter Pod restarted and became available again: the status was written.
  Object.assign(deployment.metadata, { resourceVersion: '4801' });
  assert.is((await send()).rollouts, 2);
  assert.is((await send()).rollouts, 2);
});

handler.run();
