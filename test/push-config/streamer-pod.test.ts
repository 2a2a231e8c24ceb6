// findStreamerPod against real Pods: only the StatefulSet's own, Running Pod with an IP is
// called; anything else says why it is not.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findStreamerPod, isStarting, STARTING_GRACE_MS, streamerPodFrom } from '../../lib/push-config/streamer-pod.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { adminClient, createStreamer, startStreamerPod } from '../status/streamers.ts';

const cluster = await useCluster();
const kube = await adminClient(cluster);
const namespace = await cluster.createNamespace('streamer-pod');

const find = suite('findStreamerPod');

find('no Pod → unavailable, "does not exist yet"', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'empty' });
  const pod = await findStreamerPod({ kube, streamer });
  assert.equal(pod, { kind: 'unavailable', name: 'empty-streamer-0', message: 'Pod empty-streamer-0 does not exist yet' });
});

find('the StatefulSet\'s Running Pod → running, with its UID and IP', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'live' });
  const started = await startStreamerPod(kube, streamer);
  const pod = await findStreamerPod({ kube, streamer });
  const { startedAt, ...rest } = pod.kind === 'running' ? pod : { startedAt: undefined };
  assert.equal(rest, { kind: 'running', name: 'live-streamer-0', uid: started.uid, podIP: started.podIP, startupPending: false });
  assert.ok(startedAt && Date.now() - Date.parse(startedAt) < 60_000, `the container's start (${startedAt})`);
  assert.match(started.podIP, /^127\.100\./);
});

find('isStarting: before the startup probe passed, or within STARTING_GRACE_MS of the container\'s start; not after, nor without a start time', () => {
  const base = { kind: 'running' as const, name: 'p', uid: 'u', podIP: '10.244.0.9' };
  const at = new Date('2030-01-01T00:00:00Z');
  const after = (ms: number) => new Date(at.getTime() + ms);
  assert.ok(isStarting({ ...base, startupPending: true, startedAt: at.toISOString() }, after(STARTING_GRACE_MS * 10)));
  assert.ok(isStarting({ ...base, startupPending: false, startedAt: at.toISOString() }, after(STARTING_GRACE_MS - 1)));
  assert.not.ok(isStarting({ ...base, startupPending: false, startedAt: at.toISOString() }, after(STARTING_GRACE_MS)));
  assert.not.ok(isStarting({ ...base, startupPending: false }, at));
});

find('a container whose startup probe has not passed (started false) → running, startupPending', () => {
  const streamer = { metadata: { name: 'probe', namespace: 'ns', uid: 's' } } as Parameters<typeof streamerPodFrom>[0];
  const pod = streamerPodFrom(streamer, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'probe-streamer-0', namespace: 'ns', uid: 'p', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'probe-streamer', uid: 'x', controller: true }] },
    status: { phase: 'Running', podIP: '10.244.0.9', containerStatuses: [{ name: 'streamer', started: false, state: { running: { startedAt: '2030-01-01T00:00:00Z' } } }] },
  } as Parameters<typeof streamerPodFrom>[1]);
  assert.equal(pod, { kind: 'running', name: 'probe-streamer-0', uid: 'p', podIP: '10.244.0.9', startedAt: '2030-01-01T00:00:00Z', startupPending: true });
});

find('a Pod with the right name that the StatefulSet does not control → unavailable', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'fake' });
  await kube.create({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fake-streamer-0', namespace },
    spec: { nodeName: 'stream-node', containers: [{ name: 'c', image: 'example.invalid/none' }] },
  });
  const pod = await findStreamerPod({ kube, streamer });
  assert.is(pod.kind, 'unavailable');
  assert.match(pod.kind === 'unavailable' ? pod.message : '', /not controlled by StatefulSet fake-streamer/);
});

find('a terminating Pod → unavailable', async () => {
  const streamer = await createStreamer(kube, { namespace, name: 'ending' });
  await startStreamerPod(kube, streamer);
  const key = { apiVersion: 'v1', kind: 'Pod', namespace, name: 'ending-streamer-0' };
  // A finalizer keeps the Pod in Terminating until the test lets it go.
  await kube.patch(key, { metadata: { finalizers: ['example.com/hold'] } });
  await cluster.kubectl.ok(['delete', 'pod', 'ending-streamer-0', '-n', namespace, '--wait=false']);
  try {
    const pod = await waitFor('the Pod terminating', async () => {
      const found = await findStreamerPod({ kube, streamer });
      return found.kind === 'unavailable' ? found : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    assert.match(pod.kind === 'unavailable' ? pod.message : '', /is terminating/);
  } finally {
    // Let it go; it may already be gone if an assertion above failed late.
    await kube.patch(key, { metadata: { finalizers: null } }).catch(() => undefined);
  }
});

find.run();
