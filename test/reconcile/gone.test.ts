// A Streamer deleted while reconcile-children works on it, on the real API server: the
// deletion is made to happen at a chosen point (between the first and second wave, the
// StatefulSet's read) by a KubeClient that deletes it just before passing that read on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { streamerGone, StreamerGoneError } from '../../lib/events/streamer-gone.ts';
import type { KubeClient } from '../../lib/kube/client.ts';
import { reconcileChildren } from '../../lib/reconcile/children.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { applyStreamer, CHILD_KINDS, kubeFor, readStreamer } from './helpers.ts';

const cluster = await useCluster();
const test = suite('a Streamer that goes away mid-reconcile');
const namespace = namespacePerTest(test, cluster);

/** `inner`, except that `before` runs once, just before the first read of a `kind`. */
function deletingBefore(inner: KubeClient, kind: string, before: () => Promise<void>): KubeClient {
  let done = false;
  return {
    ...inner,
    async get(key) {
      if (key.kind === kind && !done) {
        done = true;
        await before();
      }
      return inner.get(key);
    },
  } as KubeClient;
}

test('deleted after the first wave: no StatefulSet (so no Pod) is created, the reconcile stops with StreamerGoneError, nothing is left', async () => {
  const ns = await namespace('rc-gone');
  await applyStreamer(cluster, ns, quickstartManifest);
  const streamer = await readStreamer(await kubeFor(cluster), ns, 'simple');
  const kube = deletingBefore(await kubeFor(cluster), 'StatefulSet', async () => {
    await cluster.kubectl.ok(['delete', 'streamer', 'simple', '-n', ns, '--wait=true']);
  });
  const error = await reconcileChildren({ kube, streamer }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof StreamerGoneError, String(error));
  assert.is((error as StreamerGoneError).reason, 'deleted');
  assert.is((await cluster.kubectl(['get', 'statefulset', 'simple-streamer', '-n', ns])).code, 1, 'no StatefulSet created');
  // What the first wave made while the Streamer existed goes with it (garbage collector).
  await waitFor('no child left', async () => {
    for (const [, kind, suffix] of CHILD_KINDS) if ((await cluster.kubectl(['get', kind.toLowerCase(), `simple-${suffix}`, '-n', ns])).code === 0) return undefined;
    return true;
  }, { timeoutMs: 60_000, intervalMs: 500 });
});

test('streamerGone: there, deleting (held by a finalizer), replaced by a new uid, deleted', async () => {
  const ns = await namespace('rc-gone-why');
  const kube = await kubeFor(cluster);
  await applyStreamer(cluster, ns, { ...quickstartManifest, metadata: { ...quickstartManifest.metadata, finalizers: ['example.com/hold'] } } as never);
  const first = await readStreamer(kube, ns, 'simple');
  assert.is(await streamerGone(kube, first), null);
  await cluster.kubectl.ok(['delete', 'streamer', 'simple', '-n', ns, '--wait=false']);
  assert.is(await streamerGone(kube, first), 'deleting');
  await cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await waitFor('deleted', async () => ((await streamerGone(kube, first)) === 'deleted' ? true : undefined));
  await applyStreamer(cluster, ns, quickstartManifest);
  assert.is(await streamerGone(kube, first), 'replaced');
  assert.is(await streamerGone(kube, await readStreamer(kube, ns, 'simple')), null);
});

test.run();
