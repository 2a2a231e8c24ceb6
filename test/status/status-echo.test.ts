// Status echoes (lib/status/status-echo.ts): a Streamer update that leaves the generation as it
// is, reaching push-config and probe-status after their own condition answered that
// generation, costs no read and no media-server call. Against the real API server and a media
// double on the Pod's IP: the first events do the work; the echo of a status write is
// answered at once; an edit (a new generation), an add event and a condition still Unknown are
// worked as before.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { definition as probeStatus } from '../../functions/probe-status/definition.ts';
import { definition as pushConfig } from '../../functions/push-config/definition.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { PROBE_STATUS_FIELD_MANAGER } from '../../lib/probe-status/probe-status.ts';
import { applyStatus } from '../../lib/status/apply-status.ts';
import { findCondition } from '../../lib/status/condition.ts';
import { useCluster } from '../cluster/shared.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';
import { adminClient, createStreamer, patchSpec, readStreamer, secretValue, startStreamerPod } from './streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('status-echo');
const update = { kind: 'Streamer', action: 'update' };
let double: MediaDouble;

const test = suite('status echoes: a Streamer update of a generation already answered');

test.before(async () => {
  const streamer = await createStreamer(admin, { namespace, name: 'cam' });
  const pod = await startStreamerPod(admin, streamer);
  double = await startMediaDouble({ host: pod.podIP, port: API_PORT, editAuth: await secretValue(admin, namespace, 'cam-license-storage', 'edit_auth') });
});
test.after(async () => {
  await double.stop();
});

type Definition = typeof pushConfig;
const work = async (definition: Definition, cause: { kind: string; action: string }) => {
  const kube = await adminClient(cluster, 'streamer-operator');
  const streamer = await readStreamer(admin, namespace, 'cam');
  const result = (await definition.work({ kube, streamer, cause })) as Record<string, unknown>;
  return { result, stats: kube.stats() };
};

test('the first events do the work; the echo of a status write is answered with no read', async () => {
  const pushed = await work(pushConfig, { kind: 'Pod', action: 'add' });
  assert.is(pushed.result.configSaved, 'True');
  const probed = await work(probeStatus, { kind: 'Pod', action: 'update' });
  assert.is(probed.result.streamerReady, 'True');
  const saves = double.received.length;

  for (const definition of [pushConfig, probeStatus]) {
    const echo = await work(definition, update);
    assert.equal(echo.result, { skipped: 'generation-answered' });
    assert.equal(echo.stats, { reads: 0, writes: 0 });
  }
  assert.is(double.received.length, saves, 'no media-server request');
});

test('an add event is worked whatever the status says', async () => {
  for (const definition of [pushConfig, probeStatus]) {
    const added = await work(definition, { kind: 'Streamer', action: 'add' });
    assert.not.equal(added.result, { skipped: 'generation-answered' });
    assert.ok(added.stats.reads > 0);
  }
});

test('an edit is a new generation: both functions work the update event', async () => {
  const edited = await patchSpec(admin, await readStreamer(admin, namespace, 'cam'), { configExtra: { 'extra.conf': 'http 8080;\n' } });
  const pushed = await work(pushConfig, update);
  assert.is(pushed.result.pushed, true);
  assert.is(double.config.includes('http 8080;'), true, 'the new text is on the server');
  const probed = await work(probeStatus, update);
  assert.is(probed.result.streamerReady, 'True');
  assert.ok(probed.stats.reads >= 2);
  const after = await readStreamer(admin, namespace, 'cam');
  assert.is(findCondition(after, 'StreamerReady')?.observedGeneration, edited.metadata.generation);
});

test('a condition still Unknown for this generation is not an answer: the update is worked', async () => {
  const streamer = await readStreamer(admin, namespace, 'cam');
  const ready = findCondition(streamer, 'StreamerReady');
  assert.ok(ready);
  await applyStatus({
    kube: admin, streamer, fieldManager: PROBE_STATUS_FIELD_MANAGER,
    condition: { ...ready, status: 'Unknown', reason: 'StatefulSetUnreadable', message: 'the read failed' },
    fields: { ready: false, ...(streamer.status?.observedGeneration !== undefined ? { observedGeneration: streamer.status.observedGeneration } : {}) },
  });
  const probed = await work(probeStatus, update);
  assert.is(probed.result.streamerReady, 'True');
  assert.is(probed.stats.writes >= 1, true, 'True written again');
});

test.run();
