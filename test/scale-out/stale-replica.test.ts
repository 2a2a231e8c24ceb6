// A stale replica: one replica holds generation N of a Streamer while another has already
// handled N+1, and the stale one finishes last. Against the real API server, kwok running the
// Pod and the media-server double on the Pod's IP, each function's core is run twice, the way
// two replicas would run it; nothing the newer run did may regress.
import { Agent } from 'undici';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../lib/kube/client.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import { probeStatus } from '../../lib/probe-status/probe-status.ts';
import { configHash } from '../../lib/push-config/config-hash.ts';
import { pushConfig } from '../../lib/push-config/push-config.ts';
import { reconcileChildren } from '../../lib/reconcile/children.ts';
import { STREAMER_GENERATION_ANNOTATION } from '../../lib/reconcile/stale-generation.ts';
import type { Streamer } from '../../lib/schema/streamer.ts';
import { StatusConflictError } from '../../lib/status/apply-status.ts';
import { setCondition } from '../../lib/status/set-condition.ts';
import { useCluster } from '../cluster/shared.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';
import { adminClient, createStreamer, eventsAbout, patchSpec, readStreamer, secretValue, startStreamerPod, waitForRunningPod, type PodInfo } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('stale-replica');
const NAME = 'cam';

let pod: PodInfo;
let double: MediaDouble;
const media = { dispatcher: new Agent(), timeoutMs: 5_000, retries: 0 };
const fresh = () => readStreamer(admin, namespace, NAME);
const conditionOf = (streamer: Streamer, type: string) => streamer.status?.conditions?.find((c) => c.type === type);
const statefulSet = () => admin.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: `${NAME}-streamer` });
const saves = () => double.received.filter((r) => r.method === 'PUT').map((r) => r.body);

const stale = suite('a replica holding generation N finishes after one holding N+1');

stale.before(async () => {
  const streamer = await createStreamer(admin, { namespace, name: NAME, spec: { configExtra: { 'a.conf': 'stream gen1 {\n  input fake://1;\n}\n' } } });
  pod = await startStreamerPod(admin, streamer);
  double = await startMediaDouble({ host: pod.podIP, port: API_PORT, editAuth: await secretValue(admin, namespace, `${NAME}-license-storage`, 'edit_auth') });
  await pushConfig({ kube: admin, streamer: await fresh(), media });
  await probeStatus({ kube: admin, streamer: await fresh() });
});
stale.after(async () => {
  await double.stop();
  await media.dispatcher.close();
});

stale('push-config: the older save lands last, yet the server ends with N+1 and the status records N+1', async () => {
  // Two edits in a row: one replica got the event of the first (N), another that of the second (N+1).
  const older = await patchSpec(admin, await fresh(), { configExtra: { 'a.conf': 'stream gen2 {\n  input fake://2;\n}\n' } });
  const newer = await patchSpec(admin, older, { configExtra: { 'a.conf': 'stream gen3 {\n  input fake://3;\n}\n' } });
  double.received.length = 0;
  // The older replica's validate is slow, so its save lands after the newer replica is done.
  double.setFault({ kind: 'slow', ms: 800, path: '/config', times: 1 });
  const slow = pushConfig({ kube: await adminClient(cluster), streamer: older, media });
  await new Promise((r) => setTimeout(r, 100));
  const quick = await pushConfig({ kube: await adminClient(cluster), streamer: newer, media });
  assert.equal([quick.status, quick.pushed], ['True', true]);
  const late = await slow;
  const [olderText, newerText] = [renderMediaServerConfig(older), renderMediaServerConfig(newer)];
  // The interleaving really happened: N+1 saved, then N over it, then N+1 again by the stale run.
  assert.equal(saves(), [newerText, olderText, newerText]);
  assert.is(late.superseded, 1);
  assert.is(double.config, newerText);
  const stored = await fresh();
  assert.is(stored.status?.configPush?.hash, configHash(newerText));
  assert.equal([conditionOf(stored, 'StreamerConfigSaved')?.status, conditionOf(stored, 'StreamerConfigSaved')?.observedGeneration], ['True', newer.metadata.generation]);
  // And a later event finds it settled: no further save.
  const replay = await pushConfig({ kube: await adminClient(cluster), streamer: stored, media });
  assert.equal([replay.pushed, replay.written], [false, false]);
});

stale('push-config: a stale run that starts after the newer one finished leaves the server and the status as they are', async () => {
  const older = await patchSpec(admin, await fresh(), { configExtra: { 'a.conf': 'stream gen4 {\n  input fake://4;\n}\n' } });
  const newer = await patchSpec(admin, older, { configExtra: { 'a.conf': 'stream gen5 {\n  input fake://5;\n}\n' } });
  await pushConfig({ kube: admin, streamer: newer, media });
  const before = await fresh();
  // The stale copy (generation N, its text never saved) pushes it, sees N+1 on the re-read,
  // and saves N+1 again; its status write finds nothing to change.
  const error = await pushConfig({ kube: admin, streamer: older, media }).then(() => undefined, (e: unknown) => e);
  const after = await fresh();
  assert.is(double.config, renderMediaServerConfig(newer), 'the server ends with the newest text');
  assert.is(after.status?.configPush?.hash, configHash(renderMediaServerConfig(newer)));
  assert.is(conditionOf(after, 'StreamerConfigSaved')?.observedGeneration, newer.metadata.generation);
  assert.is(conditionOf(after, 'StreamerConfigSaved')?.lastTransitionTime, conditionOf(before, 'StreamerConfigSaved')?.lastTransitionTime);
  assert.ok(error === undefined || error instanceof StatusConflictError, String(error));
});

stale('status: a stale False after a True is refused; lastTransitionTime and the Events stay', async () => {
  const older = await fresh();
  // Another replica writes a newer status meanwhile (any write moves the resourceVersion).
  await probeStatus({ kube: admin, streamer: await patchSpec(admin, older, { publicUrl: 'https://cdn.example.com/cam' }) });
  const before = await fresh();
  const events = (await eventsAbout(admin, before, 'Probe')).length;
  const error = await setCondition({
    kube: admin, streamer: older, fieldManager: 'streamer-operator-probe-status',
    input: { type: 'StreamerReady', status: 'False', reason: 'NoReadyReplicas', message: 'a stale read' },
    fields: { ready: false }, event: { reportingInstance: 'probe-status', action: 'Probe' },
  }).then(() => undefined, (e: unknown) => e);
  assert.instance(error, StatusConflictError);
  const after = await fresh();
  assert.is(after.metadata.resourceVersion, before.metadata.resourceVersion, 'nothing written');
  assert.equal(conditionOf(after, 'StreamerReady'), conditionOf(before, 'StreamerReady'));
  assert.is(after.status?.ready, true);
  assert.is((await eventsAbout(admin, after, 'Probe')).length, events, 'no Event');
});

stale('reconcile-children: an older generation never rolls the StatefulSet back', async () => {
  const older = await fresh();
  const newer = await patchSpec(admin, older, { env: [{ name: 'RESTART_MARK', value: 'newer' }] });
  const applied = await reconcileChildren({ kube: admin, streamer: newer });
  assert.ok(applied.restarted, 'the newer generation restarts the Pod');
  const replaced = await waitForRunningPod(admin, newer, { notUid: pod.uid });
  const set = (await statefulSet()) as KubeObject;
  assert.is(set.metadata.annotations?.[STREAMER_GENERATION_ANNOTATION], String(newer.metadata.generation));
  const late = await reconcileChildren({ kube: admin, streamer: older });
  assert.not.ok(late.restarted);
  assert.not.ok(late.updated.includes('StatefulSet'));
  // Nothing of ours written: not the spec (its generation), not our annotations, not the
  // template. (Its resourceVersion may move: the StatefulSet controller writes its status.)
  const after = (await statefulSet()) as KubeObject & { spec?: { template?: unknown } };
  assert.is(after.metadata.generation, set.metadata.generation, 'the StatefulSet spec was not written');
  assert.equal(after.metadata.annotations, set.metadata.annotations, 'nor its annotations');
  assert.equal(after.spec?.template, (set as typeof after).spec?.template, 'the newer pod template stays');
  await new Promise((r) => setTimeout(r, 1_000));
  assert.is((await waitForRunningPod(admin, newer)).uid, replaced.uid, 'the Pod was not replaced again');
  pod = replaced;
});

stale.run();
