// pushConfig against the real control plane (kwok runs the Pod) and the media-server double
// listening on the Pod's IP and API port: StreamerConfigSaved for every outcome the spec
// names, hot pushes without a Pod restart, recovery without edits, and no request at all
// for an unchanged Streamer.
import { Agent } from 'undici';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TransientError } from '../../lib/events/errors.ts';
import type { KubeObject } from '../../lib/kube/client.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import { probeStatus } from '../../lib/probe-status/probe-status.ts';
import { configHash } from '../../lib/push-config/config-hash.ts';
import { isSettled, pushConfig, type PushOutcome } from '../../lib/push-config/push-config.ts';
import { findStreamerPod, STARTING_GRACE_MS } from '../../lib/push-config/streamer-pod.ts';
import type { Condition } from '../../lib/schema/condition.ts';
import type { Streamer } from '../../lib/schema/streamer.ts';
import { useCluster } from '../cluster/shared.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';
import {
  adminClient, createStreamer, eventsAbout, patchSpec, readStreamer, secretValue, startStreamerPod, waitForRunningPod, type PodInfo,
} from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('push-config');
const NAME = 'cam';
const SECRET = `${NAME}-license-storage`;
const HAND_PASSWORD = 'admin:changed-by-hand-7f3a';

let pod: PodInfo;
let editAuth = '';
let double: MediaDouble;
let media: { dispatcher: Agent; timeoutMs: number; retries: number };

const fresh = () => readStreamer(admin, namespace, NAME);
const savedOf = (streamer: Streamer) => streamer.status?.conditions?.find((c) => c.type === 'StreamerConfigSaved');
const startDouble = async (auth: string, streamer: Streamer) => {
  double = await startMediaDouble({ host: pod.podIP, port: API_PORT, editAuth: auth, initialConfig: renderMediaServerConfig(streamer) });
};
/** Runs pushConfig with a fresh client; returns its outcome (or the error it threw) and the client's counts. */
async function push(streamer?: Streamer, now?: Date): Promise<{ outcome?: PushOutcome; error?: unknown; reads: number; writes: number }> {
  const kube = await adminClient(cluster);
  try {
    const outcome = await pushConfig({ kube, streamer: streamer ?? (await fresh()), media, now });
    return { outcome, ...kube.stats() };
  } catch (error) {
    return { error, ...kube.stats() };
  }
}
const expectCondition = (condition: Condition | undefined, status: string, reason: string) => {
  assert.ok(condition, 'StreamerConfigSaved is set');
  assert.equal([condition.status, condition.reason], [status, reason], condition.message);
};

const hot = suite('pushConfig');

hot.before(async () => {
  const streamer = await createStreamer(admin, {
    namespace,
    name: NAME,
    spec: { configExtra: { 'auth.conf': 'auth_backend watcher {\n  backend http://central/vsaas/api/camera_auth;\n}\n' } },
  });
  pod = await startStreamerPod(admin, streamer);
  editAuth = await secretValue(admin, namespace, SECRET, 'edit_auth');
  await startDouble(editAuth, streamer);
});
hot.before.each(() => {
  // A fresh pool per test: no keep-alive socket outlives a restarted double.
  media = { dispatcher: new Agent(), timeoutMs: 1000, retries: 0 };
});
hot.after.each(async () => {
  await media.dispatcher.close();
});
hot.after(async () => {
  await double.stop();
});

hot('the first push saves the rendered config → True with observedGeneration, configPush, a Normal Event', async () => {
  const streamer = await fresh();
  const { outcome } = await push(streamer);
  assert.equal([outcome?.status, outcome?.reason, outcome?.pushed], ['True', 'ConfigSaved', true]);
  assert.is(double.config, renderMediaServerConfig(streamer));
  assert.equal(double.received.map((r) => r.method), ['POST', 'PUT'], 'validated, then saved');
  const stored = await fresh();
  const condition = savedOf(stored);
  expectCondition(condition, 'True', 'ConfigSaved');
  assert.is(condition?.observedGeneration, stored.metadata.generation);
  assert.is(stored.status?.configPush?.hash, configHash(renderMediaServerConfig(streamer)));
  assert.is(stored.status?.configPush?.podUID, pod.uid);
  assert.ok(stored.status?.configPush?.editAuthVersion);
  const events = await eventsAbout(admin, stored, 'Push');
  assert.equal(events.map((e) => [e.reason, e.type, e.action]), [['ConfigSaved', 'Normal', 'Push']]);
});

hot('a second call with nothing changed: zero writes, zero media requests', async () => {
  const before = await fresh();
  const requests = double.received.length;
  const { outcome, reads, writes } = await push(before);
  assert.equal([outcome?.status, outcome?.pushed, outcome?.written], ['True', false, false]);
  assert.is(writes, 0);
  assert.is(reads, 2, 'the Pod and the edit_auth Secret');
  assert.is(double.received.length, requests);
  assert.is((await fresh()).metadata.resourceVersion, before.metadata.resourceVersion);
});

hot('editing configExtra pushes the new text hot: same Pod, True with the new generation, lastTransitionTime kept', async () => {
  const before = await fresh();
  const streamer = await patchSpec(admin, before, { configExtra: { 'auth.conf': null, 'dvr.conf': 'dvr watcher {\n  root /storage;\n  limits 7d;\n}\n' } });
  const { outcome } = await push(streamer);
  assert.equal([outcome?.status, outcome?.pushed, outcome?.transitioned], ['True', true, false]);
  assert.is(double.config, renderMediaServerConfig(streamer));
  assert.match(double.config, /dvr watcher/);
  assert.not.match(double.config, /auth_backend/);
  const stored = await fresh();
  expectCondition(savedOf(stored), 'True', 'ConfigSaved');
  assert.is(savedOf(stored)?.observedGeneration, streamer.metadata.generation);
  assert.is(savedOf(stored)?.lastTransitionTime, savedOf(before)?.lastTransitionTime);
  const now = await waitForRunningPod(admin, streamer);
  assert.is(now.uid, pod.uid, 'the Pod was not restarted');
  assert.is((await eventsAbout(admin, stored, 'Push')).length, 1, 'no transition, no new Event');
});

hot('a change that does not touch the config: no media request, observedGeneration moves', async () => {
  const streamer = await patchSpec(admin, await fresh(), { labels: { team: 'video' } });
  const requests = double.received.length;
  const { outcome, writes } = await push(streamer);
  assert.equal([outcome?.status, outcome?.pushed], ['True', false]);
  assert.is(writes, 1);
  assert.is(double.received.length, requests);
  assert.is(savedOf(await fresh())?.observedGeneration, streamer.metadata.generation);
});

hot('an invalid config (unbalanced brace) → False/ConfigInvalid with line and column; nothing saved', async () => {
  const saved = double.config;
  const streamer = await patchSpec(admin, await fresh(), { configExtra: { 'zz-broken.conf': 'stream a {\n  url fake://x;\n}\n}\n' } });
  const { outcome, error } = await push(streamer);
  assert.is(error, undefined, 'no retry: the same text would fail again');
  assert.equal([outcome?.status, outcome?.reason], ['False', 'ConfigInvalid']);
  const condition = savedOf(await fresh());
  expectCondition(condition, 'False', 'ConfigInvalid');
  const lines = renderMediaServerConfig(streamer).split('\n');
  const line = lines.lastIndexOf('}') + 1;
  assert.match(condition?.message ?? '', new RegExp(`unbalanced_brace at line ${line}, column 1`));
  assert.is(double.config, saved, 'the server kept its config');
  const events = await eventsAbout(admin, await fresh(), 'Push');
  assert.equal(events.at(-1)?.reason, 'ConfigInvalid');
  assert.is(events.at(-1)?.type, 'Warning');
});

hot('a replay of the invalid config: no request, no write (the answer would be the same)', async () => {
  const requests = double.received.length;
  const { outcome, writes } = await push();
  assert.equal([outcome?.status, outcome?.pushed, writes], ['False', false, 0]);
  assert.is(double.received.length, requests);
});

hot('fixing the config → True again, and an Event', async () => {
  const streamer = await patchSpec(admin, await fresh(), { configExtra: { 'zz-broken.conf': 'stream a {\n  url fake://x;\n}\n' } });
  const { outcome } = await push(streamer);
  assert.equal([outcome?.status, outcome?.transitioned], ['True', true]);
  assert.is(double.config, renderMediaServerConfig(streamer));
  expectCondition(savedOf(await fresh()), 'True', 'ConfigSaved');
  assert.equal((await eventsAbout(admin, await fresh(), 'Push')).at(-1)?.reason, 'ConfigSaved');
});

hot('the server answers 500 → Unknown/ServerError and a TransientError; the next call recovers without an edit', async () => {
  const streamer = await patchSpec(admin, await fresh(), { logLevel: 'debug' });
  double.setFault({ kind: 'status', status: 500, path: '/config' });
  const failed = await push(streamer, new Date('2030-01-01T01:00:00Z'));
  assert.instance(failed.error, TransientError);
  expectCondition(savedOf(await fresh()), 'Unknown', 'ServerError');
  assert.is(savedOf(await fresh())?.lastTransitionTime, '2030-01-01T01:00:00Z');
  const again = await push(undefined, new Date('2030-01-01T02:00:00Z'));
  assert.instance(again.error, TransientError, 'still failing: retried again');
  assert.is(again.writes, 0, 'same Unknown: no write');
  assert.is(savedOf(await fresh())?.lastTransitionTime, '2030-01-01T01:00:00Z');
  double.setFault(null);
  const recovered = await push(undefined, new Date('2030-01-01T03:00:00Z'));
  assert.equal([recovered.outcome?.status, recovered.outcome?.pushed], ['True', true]);
  assert.match(double.config, /loglevel debug;/);
  const condition = savedOf(await fresh());
  expectCondition(condition, 'True', 'ConfigSaved');
  assert.is(condition?.lastTransitionTime, '2030-01-01T03:00:00Z');
});

hot('a server not listening in its first seconds → Unknown/ServerStarting (Normal); still not after them → Unreachable (Warning); both retried; before its startup probe passed → ServerStarting, not retried; up again → True', async () => {
  await double.stop();
  const streamer = await patchSpec(admin, await fresh(), { logLevel: 'info' });
  const running = await findStreamerPod({ kube: admin, streamer });
  assert.ok(running.kind === 'running' && running.startedAt, 'kwok says when the container started');
  const startedAt = Date.parse(running.kind === 'running' ? running.startedAt ?? '' : '');
  const starting = await push(streamer, new Date(startedAt + 1_000));
  assert.instance(starting.error, TransientError);
  expectCondition(savedOf(await fresh()), 'Unknown', 'ServerStarting');
  const down = await push(await fresh(), new Date(startedAt + STARTING_GRACE_MS + 1_000));
  assert.instance(down.error, TransientError);
  expectCondition(savedOf(await fresh()), 'Unknown', 'Unreachable');
  const events = (await eventsAbout(admin, await fresh(), 'Push')).slice(-2);
  assert.equal(events.map((e) => [e.reason, e.type]), [['ServerStarting', 'Normal'], ['Unreachable', 'Warning']]);

  // Before its startup probe passes (or while it crash-loops) the Pod's own status change brings
  // the push back: recorded, not thrown, so retries cannot run out into a dead letter.
  const podKey = { apiVersion: 'v1', kind: 'Pod', namespace, name: pod.name };
  const setStarted = async (started: boolean) => {
    const live = await admin.get<KubeObject & { status: { containerStatuses: Record<string, unknown>[] } }>(podKey);
    await admin.patch(podKey, { status: { containerStatuses: live!.status.containerStatuses.map((c) => ({ ...c, started })) } }, { subresource: 'status' });
  };
  await setStarted(false);
  const probing = await push(await fresh());
  assert.is(probing.error, undefined, 'not thrown');
  assert.equal([probing.outcome?.status, probing.outcome?.reason, probing.outcome?.pushed], ['Unknown', 'ServerStarting', true]);
  assert.match(savedOf(await fresh())?.message ?? '', /has not passed its startup probe.*next status change/);
  await setStarted(true);
  await startDouble(editAuth, streamer);
  const recovered = await push();
  assert.is(recovered.outcome?.status, 'True');
  assert.match(double.config, /loglevel info;/);
});

hot('StreamerReady and StreamerConfigSaved coexist: neither function removes the other\'s part', async () => {
  await probeStatus({ kube: admin, streamer: await fresh() });
  let stored = await fresh();
  assert.equal(stored.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort(), ['StreamerConfigSaved=True', 'StreamerReady=True']);
  const streamer = await patchSpec(admin, stored, { configExtra: { 'zz-broken.conf': null } });
  await push(streamer);
  stored = await fresh();
  assert.equal(stored.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort(), ['StreamerConfigSaved=True', 'StreamerReady=True']);
  assert.is(stored.status?.ready, true);
  assert.ok(stored.status?.configPush);
});

hot('the password changed by hand in the Secret → False/Forbidden (403), and it stays False', async () => {
  await admin.patch({ apiVersion: 'v1', kind: 'Secret', namespace, name: SECRET }, { stringData: { edit_auth: HAND_PASSWORD } });
  const { outcome, error } = await push();
  assert.is(error, undefined);
  assert.equal([outcome?.status, outcome?.reason, outcome?.pushed], ['False', 'Forbidden', true]);
  expectCondition(savedOf(await fresh()), 'False', 'Forbidden');
  const requests = double.received.length;
  const replay = await push();
  assert.equal([replay.outcome?.status, replay.writes], ['False', 0]);
  assert.is(double.received.length, requests, 'the same server would refuse the same credentials');
});

hot('…until the Pod is recreated: the new server starts with the new password → True', async () => {
  await cluster.kubectl.ok(['delete', 'pod', pod.name, '-n', namespace, '--wait=false']);
  const streamer = await fresh();
  const replaced = await waitForRunningPod(admin, streamer, { notUid: pod.uid });
  await double.stop();
  pod = replaced;
  await startDouble(HAND_PASSWORD, streamer);
  const { outcome } = await push();
  assert.equal([outcome?.status, outcome?.pushed], ['True', true]);
  const stored = await fresh();
  expectCondition(savedOf(stored), 'True', 'ConfigSaved');
  assert.is(stored.status?.configPush?.podUID, replaced.uid);
  assert.is(double.config, renderMediaServerConfig(stored));
});

hot('no credentials ever reach the status or the Events', async () => {
  const stored = await fresh();
  const text = JSON.stringify(stored.status) + JSON.stringify(await eventsAbout(admin, stored, 'Push'));
  for (const secret of [editAuth, HAND_PASSWORD]) {
    const password = secret.slice(secret.indexOf(':') + 1);
    assert.not.ok(text.includes(password), 'a password leaked');
  }
});

hot.run();

// ---

const waiting = suite('pushConfig without a running Pod');

waiting('no Pod yet → Unknown/PodNotReady, no retry, no media request', async () => {
  const streamer = await createStreamer(admin, { namespace, name: 'nopod' });
  const kube = await adminClient(cluster);
  const outcome = await pushConfig({ kube, streamer, media: { timeoutMs: 500, retries: 0 } });
  assert.equal([outcome.status, outcome.reason, outcome.pushed], ['Unknown', 'PodNotReady', false]);
  const condition = (await readStreamer(admin, namespace, 'nopod')).status?.conditions?.find((c) => c.type === 'StreamerConfigSaved');
  assert.match(condition?.message ?? '', /Pod nopod-streamer-0 does not exist yet/);
  const replay = await adminClient(cluster);
  await pushConfig({ kube: replay, streamer: await readStreamer(admin, namespace, 'nopod') });
  assert.is(replay.stats().writes, 0);
});

waiting('a Running Pod whose credentials Secret is gone → Unknown/EditAuthUnavailable', async () => {
  const streamer = await createStreamer(admin, { namespace, name: 'nosecret', spec: { editAuth: { secretKeyRef: { name: 'absent', key: 'edit_auth' } } } });
  // The Pod's env names a missing Secret; kwok runs it anyway, which stands for "deleted after start".
  await startStreamerPod(admin, streamer);
  const outcome = await pushConfig({ kube: admin, streamer: await readStreamer(admin, namespace, 'nosecret') });
  assert.equal([outcome.status, outcome.reason, outcome.pushed], ['Unknown', 'EditAuthUnavailable', false]);
  const condition = (await readStreamer(admin, namespace, 'nosecret')).status?.conditions?.find((c) => c.type === 'StreamerConfigSaved');
  assert.match(condition?.message ?? '', /Secret absent was not found/);
});

waiting.run();

// ---

const settled = suite('isSettled');
const target = { hash: 'sha256:a', podUID: 'p1', editAuthVersion: '7' };
const condition = (status: Condition['status'], reason: string): Condition => ({ type: 'StreamerConfigSaved', status, reason, message: '', lastTransitionTime: '2026-01-14T10:00:00Z' });

settled('True or False for the same text, Pod and credentials is final', () => {
  assert.ok(isSettled(condition('True', 'ConfigSaved'), target, { ...target }));
  assert.ok(isSettled(condition('False', 'Forbidden'), target, { ...target }));
  assert.ok(isSettled(condition('False', 'ConfigInvalid'), target, { ...target }));
});

settled('Unknown is never final', () => {
  assert.not.ok(isSettled(condition('Unknown', 'ServerError'), target, { ...target }));
});

settled('a new text, Pod or credentials version unsettles it', () => {
  for (const change of [{ hash: 'sha256:b' }, { podUID: 'p2' }, { editAuthVersion: '8' }]) {
    assert.not.ok(isSettled(condition('True', 'ConfigSaved'), target, { ...target, ...change }), JSON.stringify(change));
  }
  assert.not.ok(isSettled(condition('True', 'ConfigSaved'), undefined, target), 'nothing recorded');
});

settled.run();
