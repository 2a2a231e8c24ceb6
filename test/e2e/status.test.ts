// StreamerReady and StreamerConfigSaved end to end on real Knative Eventing, with every event
// delivered twice and out of order by the tests' delivery proxy in front of the functions (three
// replicas of the ksvc stand-in); the media-server double runs as the streamer Pod.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { STARTING_GRACE_MS } from '../../lib/push-config/streamer-pod.ts';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { useRealSandbox } from './sandbox.ts';

const { cluster, sandbox } = await useRealSandbox({ chaos: { maxDelayMs: 300 }, replicas: 3 });
const test = suite('conditions end to end (duplicated, shuffled delivery)');

type Condition = { type: string; status: string; reason: string; message: string; observedGeneration?: number; lastTransitionTime: string };
type StreamerView = { metadata: { generation: number }; status?: { ready?: boolean; conditions?: Condition[] } };

const namespace = namespacePerTest(test, cluster);
test.after(async () => {
  await sandbox.stop();
});

async function createQuickstart(prefix: string) {
  const ns = await namespace(prefix);
  await cluster.kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test']);
  await cluster.kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  await condition(ns, 'StreamerReady', (c) => c.status === 'True');
  await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'True');
  return ns;
}

async function condition(ns: string, type: string, ok: (c: Condition, s: StreamerView) => boolean, timeoutMs = 40_000) {
  return waitFor(`${type} in ${ns}`, async () => {
    const streamer = await cluster.kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
    const found = streamer.status?.conditions?.find((c) => c.type === type);
    return found && ok(found, streamer) ? { condition: found, streamer } : undefined;
  }, { timeoutMs, intervalMs: 200 });
}

const pod = (ns: string) => cluster.kubectl.json<{ metadata: { uid: string }; status: { podIP: string } }>(['get', 'pod', 'simple-streamer-0', '-n', ns]);
const patchSpec = (ns: string, spec: unknown) => cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec })]);

test('the quickstart becomes StreamerReady=True and StreamerConfigSaved=True; the spec\'s jsonpath reads them', async () => {
  const ns = await createQuickstart('e2e-st-quick');
  const ready = await cluster.kubectl.ok(['get', 'streamer', 'simple', '-n', ns, '-o', `jsonpath={.status.conditions[?(@.type=="StreamerReady")]}`]);
  assert.is(JSON.parse(ready).status, 'True');
  const saved = await cluster.kubectl.ok(['get', 'streamer', 'simple', '-n', ns, '-o', `jsonpath={.status.conditions[?(@.type=="StreamerConfigSaved")]}`]);
  assert.is(JSON.parse(saved).status, 'True');
  const wait = await cluster.kubectl(['wait', '--for=condition=StreamerReady=true', 'streamer/simple', '-n', ns, '--timeout=30s']);
  assert.is(wait.code, 0, wait.stderr);
  const streamer = await cluster.kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
  assert.is(streamer.status?.ready, true);
});

test('editing configExtra reaches the media server without a restart; the condition stays True with the new generation', async () => {
  const ns = await createQuickstart('e2e-st-edit');
  const before = await pod(ns);
  await patchSpec(ns, { configExtra: { 'edit.conf': 'stream edited {\n  input fake://fake;\n}\n' } });
  const { condition: saved, streamer } = await condition(ns, 'StreamerConfigSaved', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  assert.is(saved.observedGeneration, streamer.metadata.generation);
  const double = await sandbox.media.get(ns, 'simple-streamer-0');
  assert.ok(double, 'a media server double serves the Pod');
  await waitFor('the double\'s state file', async () => (/stream edited/.test(double!.config) ? true : undefined), { timeoutMs: 2_000, intervalMs: 50 }).catch(() => undefined);
  assert.match(double!.config, /stream edited/);
  assert.ok(double!.received.some((r) => r.method === 'PUT' && r.body.includes('stream edited')));
  assert.is((await pod(ns)).metadata.uid, before.metadata.uid);
});

test('an invalid config is False/ConfigInvalid with line and column; fixing it returns to True', async () => {
  const ns = await createQuickstart('e2e-st-invalid');
  await patchSpec(ns, { configExtra: { 'broken.conf': 'stream broken {\n  input fake://fake;\n' } });
  const { condition: invalid } = await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'False');
  assert.is(invalid.reason, 'ConfigInvalid');
  assert.match(invalid.message, /line \d+, column \d+/);
  await patchSpec(ns, { configExtra: { 'broken.conf': 'stream broken {\n  input fake://fake;\n}\n' } });
  await condition(ns, 'StreamerConfigSaved', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
});

test('a password changed in the Secret turns StreamerConfigSaved False', async () => {
  const ns = await createQuickstart('e2e-st-password');
  const other = Buffer.from('admin:changed-by-hand').toString('base64');
  await cluster.kubectl.ok(['patch', 'secret', 'simple-license-storage', '-n', ns, '--type=merge', '-p', JSON.stringify({ data: { edit_auth: other } })]);
  const { condition: denied } = await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'False');
  assert.is(denied.reason, 'Forbidden');
  assert.not.match(denied.message, /changed-by-hand/);
});

test('a server answering 500 is Unknown, then True after recovery without any new edit', async () => {
  const ns = await createQuickstart('e2e-st-500');
  const double = await sandbox.media.get(ns, 'simple-streamer-0');
  assert.ok(double);
  await double!.setFault({ kind: 'status', status: 500 });
  await patchSpec(ns, { configExtra: { 'retry.conf': 'stream retry {\n  input fake://fake;\n}\n' } });
  await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'Unknown');
  await double!.setFault(null);
  // The Broker's retries (503 from push-config) or the next resync tick bring it back.
  await sandbox.tick();
  await condition(ns, 'StreamerConfigSaved', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  await waitFor('the double\'s state file', async () => (/stream retry/.test(double!.config) ? true : undefined), { timeoutMs: 2_000, intervalMs: 50 }).catch(() => undefined);
  assert.match(double!.config, /stream retry/);
});

test('a server that is down is Unknown, then True once it is back', async () => {
  const ns = await createQuickstart('e2e-st-down');
  // Past the window in which a server that refuses connections is still starting (ServerStarting).
  const started = await cluster.kubectl.json<{ status: { containerStatuses: { state: { running?: { startedAt: string } } }[] } }>(['get', 'pod', 'simple-streamer-0', '-n', ns]);
  const startedAt = Date.parse(started.status.containerStatuses[0]?.state.running?.startedAt ?? '');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + STARTING_GRACE_MS - Date.now())));
  await sandbox.media.pause(ns, 'simple-streamer-0');
  await patchSpec(ns, { configExtra: { 'down.conf': 'stream down {\n  input fake://fake;\n}\n' } });
  const { condition: unknown } = await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'Unknown');
  assert.ok(['Unreachable', 'Timeout'].includes(unknown.reason), unknown.reason);
  await sandbox.media.resume(ns, 'simple-streamer-0');
  await sandbox.tick();
  await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'True');
});

test('a Pod that stops being ready makes StreamerReady False; ready again makes it True', async () => {
  const ns = await createQuickstart('e2e-st-ready');
  const setReady = (status: 'True' | 'False') =>
    cluster.kubectl.ok(['patch', 'pod', 'simple-streamer-0', '-n', ns, '--subresource=status', '--type=strategic', '-p',
      JSON.stringify({ status: { conditions: [{ type: 'Ready', status }, { type: 'ContainersReady', status }] } })]);
  await setReady('False');
  const { condition: notReady, streamer } = await condition(ns, 'StreamerReady', (c) => c.status === 'False');
  assert.is(notReady.reason, 'NoReadyReplicas');
  assert.is(streamer.status?.ready, false);
  await setReady('True');
  const { streamer: again } = await condition(ns, 'StreamerReady', (c) => c.status === 'True');
  assert.is(again.status?.ready, true);
});

test.run();
