// reconcile-children end to end: Kubernetes changes reach it as CloudEvents
// from the real ApiServerSource adapter, routed by the Triggers in knative/.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { childVersions, CHILD_KINDS, kubeFor } from '../reconcile/helpers.ts';
import { apiServerEvent, useSandbox } from './sandbox.ts';

// Three replicas per function, every event delivered twice and out of order: the scenarios hold under scale-out.
const { cluster, sandbox } = await useSandbox({ chaos: { maxDelayMs: 300 }, replicas: 3 });
const kube = await kubeFor(cluster);
const url = `${sandbox.functions.urls['reconcile-children']}/reconcile-children`;
const test = suite('reconcile-children end to end');

const namespace = namespacePerTest(test, cluster);
test.after(async () => {
  await sandbox.stop();
});

async function createQuickstart(prefix: string) {
  const ns = await namespace(prefix);
  await cluster.kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  await waitForChildren(ns);
  return ns;
}

async function waitForChildren(ns: string) {
  await waitFor('all seven children', async () => {
    const versions = await childVersions(kube, ns, 'simple');
    return Object.values(versions).every(Boolean) ? versions : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100 });
}

/** Waits until no delivery has been in flight for a second (the Pod's own events included); false if it never settles. */
async function settle(): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const count = sandbox.broker.deliveries.length;
    await sandbox.broker.idle();
    await new Promise((r) => setTimeout(r, 1_000));
    if (sandbox.broker.deliveries.length === count) return true;
  }
  return false;
}

const post = async (event: { headers: Record<string, string>; body: string }) => {
  const response = await request(url, { method: 'POST', headers: event.headers, body: event.body });
  return { status: response.statusCode, body: await response.body.text() };
};

test('creating the quickstart produces all seven children through the event path', async () => {
  const ns = await createQuickstart('e2e-rc-create');
  for (const [, kind, suffix] of CHILD_KINDS) {
    assert.is((await cluster.kubectl(['get', kind.toLowerCase(), `simple-${suffix}`, '-n', ns])).code, 0, kind);
  }
  const delivered = sandbox.broker.deliveries.filter((d) => d.trigger === 'reconcile-children' && d.name === 'simple' && d.kind === 'Streamer');
  assert.ok(delivered.some((d) => d.eventType === 'dev.knative.apiserver.resource.add' && d.status === 204));
});

test('a hand edit of the StatefulSet is reverted by the event it causes', async () => {
  const ns = await createQuickstart('e2e-rc-drift');
  await cluster.kubectl.ok(['set', 'image', 'statefulset/simple-streamer', '-n', ns, 'streamer=evil/image:1']);
  await waitFor('image restored', async () => {
    const image = await cluster.kubectl.ok(['get', 'statefulset', 'simple-streamer', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    return image === 'flussonic/flussonic:v26.01-5' ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  assert.ok(sandbox.broker.deliveries.some((d) => d.trigger === 'reconcile-children' && d.kind === 'StatefulSet' && d.eventType === 'dev.knative.apiserver.ref.update'));
});

test('status writes of the other functions do not start a loop: the event flow stops', async () => {
  await createQuickstart('e2e-rc-loop');
  // Creating a Streamer sets off its children's, the Pod's and both conditions' events;
  // each function then finds nothing to do, so the flow must dry up.
  assert.ok(await settle(), 'events kept flowing for 20 s');
  const before = sandbox.broker.deliveries.length;
  await new Promise((r) => setTimeout(r, 3_000));
  assert.is(sandbox.broker.deliveries.length, before);
  // Status-only updates of a converged generation are recognised without reading the children.
  const log = await readFile(join(sandbox.functions.logDir, 'reconcile-children.log'), 'utf8');
  assert.match(log, /"skipped":"generation-converged"/);
});

test('a deleted child is recreated by the delete event', async () => {
  const ns = await createQuickstart('e2e-rc-recreate');
  await cluster.kubectl.ok(['delete', 'configmap', 'simple-config', '-n', ns]);
  await waitFor('ConfigMap back', async () => ((await cluster.kubectl(['get', 'configmap', 'simple-config', '-n', ns])).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
});

test('the same event 10 times, then an older one, moves no resourceVersion', async () => {
  const ns = await createQuickstart('e2e-rc-replay');
  const old = await cluster.kubectl.json<{ apiVersion: string; kind: string; metadata: { name: string; namespace: string } }>(['get', 'streamer', 'simple', '-n', ns]);
  await cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { publicUrl: 'https://example.com/new' } })]);
  await settle();
  const newer = await cluster.kubectl.json<typeof old>(['get', 'streamer', 'simple', '-n', ns]);
  const before = await childVersions(kube, ns, 'simple');
  const streamerVersion = await cluster.kubectl.ok(['get', 'streamer', 'simple', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}']);
  const event = apiServerEvent('dev.knative.apiserver.resource.update', newer, newer);
  for (let i = 0; i < 10; i++) assert.is((await post(event)).status, 204);
  assert.is((await post(apiServerEvent('dev.knative.apiserver.resource.update', old, old))).status, 204);
  assert.equal(await childVersions(kube, ns, 'simple'), before);
  assert.is(await cluster.kubectl.ok(['get', 'streamer', 'simple', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}']), streamerVersion);
});

test('every event type and mode is accepted; malformed events get 400; unrelated ones are no-ops', async () => {
  const ns = await createQuickstart('e2e-rc-types');
  const streamer = await cluster.kubectl.json<{ apiVersion: string; kind: string; metadata: { name: string; namespace: string } }>(['get', 'streamer', 'simple', '-n', ns]);
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'simple-config', namespace: ns } };
  const refData = { apiVersion: 'v1', kind: 'ConfigMap', name: 'simple-config', namespace: ns };
  for (const action of ['add', 'update', 'delete']) {
    assert.is((await post(apiServerEvent(`dev.knative.apiserver.resource.${action}`, streamer, streamer))).status, 204, `resource.${action}`);
    assert.is((await post(apiServerEvent(`dev.knative.apiserver.ref.${action}`, ref, refData))).status, 204, `ref.${action}`);
  }
  // Structured content mode.
  const structured = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', type: 'dev.knative.apiserver.ref.update', source: 's', id: 'x1', kind: 'ConfigMap', name: 'simple-config', namespace: ns, apiversion: 'v1', datacontenttype: 'application/json', data: refData }),
  });
  assert.is(structured.statusCode, 204);
  const missingKind = apiServerEvent('dev.knative.apiserver.ref.update', ref, refData);
  delete (missingKind.headers as Record<string, string>)['ce-kind'];
  const bad = await post(missingKind);
  assert.is(bad.status, 400);
  assert.match(bad.body, /kind/);
  await cluster.kubectl.ok(['create', 'configmap', 'unrelated', '-n', ns]);
  const unrelated = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: ns } };
  assert.is((await post(apiServerEvent('dev.knative.apiserver.ref.update', unrelated, { ...refData, name: 'unrelated' }))).status, 204);
});

test('a lost event (sources stopped during an edit) is repaired by one resync tick', async () => {
  const ns = await createQuickstart('e2e-rc-lost');
  // Let every event of the creation finish first: an in-flight one would read the edit below.
  await settle();
  await sandbox.stopSources();
  try {
    await cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { configExtra: { 'lost.conf': 'stream lost { input fake://x; }\n' } } })]);
  } finally {
    await sandbox.startSources();
  }
  await new Promise((r) => setTimeout(r, 500));
  const before = await cluster.kubectl.ok(['get', 'configmap', 'simple-config', '-n', ns, '-o', 'json']);
  assert.not.match(before, /stream lost/, 'no event reached the function');
  await sandbox.tick();
  await waitFor('ConfigMap repaired by the resync', async () => {
    const text = await cluster.kubectl.ok(['get', 'configmap', 'simple-config', '-n', ns, '-o', 'json']);
    return text.includes('stream lost') ? true : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200 });
});

test('deleting the Streamer removes all children', async () => {
  const ns = await createQuickstart('e2e-rc-delete');
  await cluster.kubectl.ok(['delete', 'streamer', 'simple', '-n', ns]);
  await waitFor('children gone', async () => {
    for (const [, kind, suffix] of CHILD_KINDS) if ((await cluster.kubectl(['get', kind.toLowerCase(), `simple-${suffix}`, '-n', ns])).code === 0) return undefined;
    return true;
  }, { timeoutMs: 90_000, intervalMs: 500 });
});

test.run();
