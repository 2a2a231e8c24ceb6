// StreamerReady tells the truth about generations and causes, on the real control plane (kwok
// runs the Pods, the real StatefulSet controller and scheduler act): True for generation N only
// once the Pod of generation N is ready, so `kubectl wait` after a restart edit does not return
// while the old Pod runs; status.observedGeneration follows; causes come from the objects.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../lib/kube/client.ts';
import { probeStatus } from '../../lib/probe-status/probe-status.ts';
import { reconcileChildren } from '../../lib/reconcile/children.ts';
import type { Streamer } from '../../lib/schema/streamer.ts';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { adminClient, createStreamer, eventsAbout, patchSpec, readStreamer, startStreamerPod } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const test = suite('StreamerReady: generations and causes');
const namespace = namespacePerTest(test, cluster);
const NAME = 'gen';

const readyOf = (streamer: Streamer) => streamer.status?.conditions?.find((c) => c.type === 'StreamerReady');
type PodView = KubeObject & { metadata: { uid: string; labels?: Record<string, string> }; status?: { conditions?: { type: string; status: string; reason?: string }[] } };
const podOf = (ns: string) => admin.get<PodView>({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: `${NAME}-streamer-0` });
const kubectlWait = (ns: string, timeout: string) =>
  cluster.kubectl(['wait', '-n', ns, '--for=condition=StreamerReady=true', `streamer/${NAME}`, `--timeout=${timeout}`]);

test('a restart edit: False until the new Pod is ready, never True while the old Pod runs; observedGeneration follows', async () => {
  const ns = await namespace('ready-gen');
  const created = await createStreamer(admin, { namespace: ns, name: NAME });
  const oldPod = await startStreamerPod(admin, created);
  await waitFor('True for generation 1', async () => ((await probeStatus({ kube: admin, streamer: await readStreamer(admin, ns, NAME) })).status === 'True' ? true : undefined), { timeoutMs: 30_000 });
  assert.is((await readStreamer(admin, ns, NAME)).status?.observedGeneration, 1);

  const edited = await patchSpec(admin, await readStreamer(admin, ns, NAME), { env: [{ name: 'RESTART', value: '1' }] });
  assert.is(edited.metadata.generation, 2);
  // reconcile-children has not applied generation 2 yet.
  const outdated = await probeStatus({ kube: admin, streamer: edited });
  assert.equal([outdated.status, outdated.reason], ['False', 'StatefulSetOutdated']);
  const stored = await readStreamer(admin, ns, NAME);
  assert.is(stored.status?.observedGeneration, 1, 'still the last generation that was ready');
  assert.is(readyOf(stored)?.observedGeneration, 2);
  assert.is.not((await kubectlWait(ns, '2s')).code, 0, 'kubectl wait must not return');

  await reconcileChildren({ kube: admin, streamer: await readStreamer(admin, ns, NAME) });
  const seen: string[] = [];
  await waitFor('True for generation 2', async () => {
    const outcome = await probeStatus({ kube: admin, streamer: await readStreamer(admin, ns, NAME) });
    seen.push(outcome.reason);
    if (outcome.status !== 'True') return undefined;
    const pod = await podOf(ns);
    assert.ok(pod && pod.metadata.uid !== oldPod.uid, `True while the old Pod ${oldPod.uid} runs (seen: ${seen.join(', ')})`);
    return true;
  }, { timeoutMs: 90_000, intervalMs: 100 });
  assert.ok(seen.slice(0, -1).every((r) => ['RollingOut', 'PodNotCreated', 'PodStarting', 'NoReadyReplicas'].includes(r)), seen.join(', '));
  const done = await readStreamer(admin, ns, NAME);
  assert.is(done.status?.observedGeneration, 2);
  assert.is(readyOf(done)?.observedGeneration, 2);
  const wait = await kubectlWait(ns, '10s');
  assert.is(wait.code, 0, wait.stderr);
  const events = await eventsAbout(admin, done);
  assert.equal(events.filter((e) => e.type === 'Warning'), [], 'a restart is progress, not a page');
});

test('a Pod that cannot be scheduled: False/Unschedulable with the scheduler\'s message, a Warning', async () => {
  const ns = await namespace('ready-sched');
  const streamer = await createStreamer(admin, { namespace: ns, name: NAME, spec: { nodeName: 'no-such-node' } });
  await reconcileChildren({ kube: admin, streamer });
  await waitFor('the scheduler to give up', async () => {
    const pod = await podOf(ns);
    return pod?.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ? true : undefined;
  }, { timeoutMs: 60_000 });
  const outcome = await probeStatus({ kube: admin, streamer: await readStreamer(admin, ns, NAME) });
  assert.equal([outcome.status, outcome.reason], ['False', 'Unschedulable']);
  const condition = readyOf(await readStreamer(admin, ns, NAME));
  assert.match(condition?.message ?? '', /^Pod gen-streamer-0 cannot be scheduled: 0\/\d+ nodes are available/);
  const events = await eventsAbout(admin, await readStreamer(admin, ns, NAME));
  assert.is(events.at(-1)?.type, 'Warning');
  assert.is(events.at(-1)?.reason, 'Unschedulable');
});

test('a Pod the StatefulSet cannot create: False/PodCreateFailed with the controller\'s message; lifting the cause converges', async () => {
  const ns = await namespace('ready-quota');
  await cluster.kubectl.ok(['create', 'quota', 'no-pods', '-n', ns, '--hard=pods=0']);
  const streamer = await createStreamer(admin, { namespace: ns, name: NAME });
  await reconcileChildren({ kube: admin, streamer });
  const outcome = await waitFor('FailedCreate on StreamerReady', async () => {
    const result = await probeStatus({ kube: admin, streamer: await readStreamer(admin, ns, NAME) });
    return result.reason === 'PodCreateFailed' ? result : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  assert.is(outcome.status, 'False');
  assert.match(readyOf(await readStreamer(admin, ns, NAME))?.message ?? '', /cannot create its Pod: .*exceeded quota: no-pods/);
  await cluster.kubectl.ok(['delete', 'quota', 'no-pods', '-n', ns]);
  await waitFor('True once the quota is gone', async () => ((await probeStatus({ kube: admin, streamer: await readStreamer(admin, ns, NAME) })).status === 'True' ? true : undefined), { timeoutMs: 90_000, intervalMs: 500 });
});

test.run();
