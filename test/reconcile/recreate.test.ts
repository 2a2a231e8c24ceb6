// Recreating the StatefulSet step by step on the real API server (no event flow, so each step is
// observed): a selectorLabels change deletes it in the foreground and reports ChildrenReady
// False/Recreating; once it is gone, the next reconcile creates it with the new selector and
// ChildrenReady is True again. The license-storage Secret is the same object throughout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import type { KubeObject } from '../../lib/kube/client.ts';
import { reconcileAndReport } from '../../lib/reconcile/children-condition.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { applyStreamer, kubeFor, readStreamer } from './helpers.ts';

const cluster = await useCluster();
const kube = await kubeFor(cluster);
const test = suite('recreating the StatefulSet');
const namespace = namespacePerTest(test, cluster);

const childrenReady = async (ns: string) =>
  (await readStreamer(kube, ns, 'simple')).status?.conditions?.find((c) => c.type === 'ChildrenReady');
const statefulSet = (ns: string) => kube.get<KubeObject & { spec: { selector: { matchLabels: Record<string, string> } } }>({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: ns, name: 'simple-streamer' });

test('a selectorLabels change: foreground delete and ChildrenReady False/Recreating, then the new StatefulSet and True', async () => {
  const ns = await namespace('rc-recreate');
  await applyStreamer(cluster, ns, quickstartManifest);
  await reconcileAndReport({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  const before = await statefulSet(ns);
  const secret = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'simple-license-storage' });
  assert.ok(before && secret);

  await applyStreamer(cluster, ns, { ...quickstartManifest, spec: { ...quickstartManifest.spec, selectorLabels: { app: 'renamed' } } });
  const first = await reconcileAndReport({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  assert.is(first.kind, 'applied');
  if (first.kind === 'applied') {
    assert.equal(first.outcome.pending, ['StatefulSet']);
    assert.equal(first.outcome.recreated, [{ kind: 'StatefulSet', changes: ['spec.selector'] }]);
  }
  const recreating = await childrenReady(ns);
  assert.equal([recreating?.status, recreating?.reason], ['False', 'Recreating']);

  await waitFor('the old StatefulSet gone', async () => ((await statefulSet(ns)) === null ? true : undefined), { timeoutMs: 60_000 });
  const second = await reconcileAndReport({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  assert.is(second.kind, 'applied');
  const after = await statefulSet(ns);
  assert.ok(after);
  assert.is.not(after!.metadata.uid, before!.metadata.uid);
  assert.equal(after!.spec.selector.matchLabels, { app: 'renamed' });
  const ready = await childrenReady(ns);
  assert.equal([ready?.status, ready?.reason], ['True', 'ChildrenApplied']);
  const kept = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'simple-license-storage' });
  assert.is(kept?.metadata.uid, secret!.metadata.uid);
});

test.run();
