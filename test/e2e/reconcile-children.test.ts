// reconcile-children end to end on real Knative Eventing (sealed cluster, `kubectl apply -k
// knative/`): Kubernetes changes reach it as CloudEvents from the real ApiServerSource adapters,
// routed by the real Broker and the Triggers in knative/; events a test sends by hand go to the
// Broker's ingress from inside the cluster network, as a source there would, and take the same
// path. Three replicas of the functions, and the tests' delivery proxy in front of them delivers
// every event twice and out of order: the scenarios hold under scale-out. What reached the
// functions is read from the proxy's record and the functions' own log lines.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { childVersions, CHILD_KINDS, kubeFor } from '../reconcile/helpers.ts';
import type { Delivery } from '../sandbox/deliveries.ts';
import { apiServerEvent, useRealSandbox } from './sandbox.ts';

const { cluster, sandbox } = await useRealSandbox({ chaos: { maxDelayMs: 300 }, replicas: 3 });
const kube = await kubeFor(cluster);
const test = suite('reconcile-children end to end');

const namespace = namespacePerTest(test, cluster);
test.after(async () => {
  await sandbox.stop();
});

async function createQuickstart(prefix: string) {
  const ns = await namespace(prefix);
  // The quickstart's license Secret: without it the streamer Pod's env cannot be resolved, its
  // media server never starts, and push-config's retries never end.
  await cluster.kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test']);
  await cluster.kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  await waitForChildren(ns);
  return ns;
}

async function waitForChildren(ns: string) {
  await waitFor('all seven children', async () => {
    const versions = await childVersions(kube, ns, 'simple');
    return Object.values(versions).every(Boolean) ? versions : undefined;
  }, { timeoutMs: 60_000, intervalMs: 100 });
}

/**
 * Waits until no delivery has been in flight for a second (the Pod's own events included) and
 * Knative has finished every delivery (no retry still to come); false if it never settles.
 */
async function settle(): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const count = sandbox.broker.deliveries.length;
    await sandbox.broker.idle();
    await new Promise((r) => setTimeout(r, 1_000));
    if (sandbox.broker.deliveries.length === count && sandbox.broker.unfinished.length === 0) return true;
  }
  return false;
}

/** Sends an event (binary mode, or structured without an id) to the Broker's ingress from inside the cluster network; its id. */
async function publish(event: { headers: Record<string, string>; body: string }): Promise<string> {
  const structured = event.headers['content-type'] === 'application/cloudevents+json';
  const id = structured ? randomUUID() : event.headers['ce-id']!;
  const body = structured ? JSON.stringify({ ...JSON.parse(event.body), id }) : event.body;
  const { status, answer } = await sandbox.publish({ headers: event.headers, body });
  assert.is(status, 202, `the Broker's ingress accepts the event: ${answer}`);
  return id;
}

/** Every delivery of event `id` to reconcile-children (both of the proxy's copies), once all have answered. */
async function deliveredToReconcile(id: string, copies = 2): Promise<Delivery[]> {
  return waitFor(`event ${id} delivered to reconcile-children`, async () => {
    const mine = sandbox.broker.deliveries.filter((d) => d.eventId === id && d.trigger === 'reconcile-children');
    return mine.length === copies && mine.every((d) => d.status !== 'pending') ? mine : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
}

/** The functions' log lines (every replica's). */
async function logLines(): Promise<Record<string, unknown>[]> {
  const texts = await Promise.all(sandbox.functionLogs().map((f) => readFile(f, 'utf8').catch(() => '')));
  return texts.join('\n').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

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
  // The PingSource's own tick (every 10 minutes) may fall in the window; it is no loop.
  const caused = () => sandbox.broker.deliveries.filter((d) => d.eventType !== 'dev.knative.sources.ping').length;
  const before = caused();
  await new Promise((r) => setTimeout(r, 3_000));
  assert.is(caused(), before);
  // Status-only updates of a converged generation are recognised without reading the children.
  const lines = await logLines();
  assert.ok(lines.some((l) => l.function === 'reconcile-children' && JSON.stringify(l).includes('"skipped":"generation-converged"')), 'a generation-converged skip in reconcile-children\'s log');
});

test('a deleted child is recreated by the delete event', async () => {
  const ns = await createQuickstart('e2e-rc-recreate');
  await cluster.kubectl.ok(['delete', 'configmap', 'simple-config', '-n', ns]);
  await waitFor('ConfigMap back', async () => ((await cluster.kubectl(['get', 'configmap', 'simple-config', '-n', ns])).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
});

test('the same event 10 times through the Broker, then an older one, moves no resourceVersion', async () => {
  const ns = await createQuickstart('e2e-rc-replay');
  const old = await cluster.kubectl.json<{ apiVersion: string; kind: string; metadata: { name: string; namespace: string } }>(['get', 'streamer', 'simple', '-n', ns]);
  await cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { publicUrl: 'https://example.com/new' } })]);
  await settle();
  const newer = await cluster.kubectl.json<typeof old>(['get', 'streamer', 'simple', '-n', ns]);
  const before = await childVersions(kube, ns, 'simple');
  const streamerVersion = await cluster.kubectl.ok(['get', 'streamer', 'simple', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}']);
  // One event id, sent ten times: each copy the proxy makes is one delivery with ten attempts.
  const id = randomUUID();
  const event = apiServerEvent('dev.knative.apiserver.resource.update', newer, newer, id);
  const answers = await Promise.all(Array.from({ length: 10 }, () => sandbox.publish(event)));
  assert.equal(answers.map((a) => a.status), Array(10).fill(202), JSON.stringify(answers));
  await waitFor('ten answers per copy', async () => {
    const mine = sandbox.broker.deliveries.filter((d) => d.eventId === id && d.trigger === 'reconcile-children');
    return mine.length === 2 && mine.every((d) => d.answers.length === 10) ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  for (const d of sandbox.broker.deliveries.filter((d) => d.eventId === id && d.trigger === 'reconcile-children')) {
    assert.equal(d.answers, Array(10).fill(204), 'every replay answered 204, none retried');
  }
  const older = await publish(apiServerEvent('dev.knative.apiserver.resource.update', old, old));
  for (const d of await deliveredToReconcile(older)) assert.is(d.status, 204, 'the older event');
  assert.ok(await settle(), 'deliveries settle');
  assert.equal(await childVersions(kube, ns, 'simple'), before);
  assert.is(await cluster.kubectl.ok(['get', 'streamer', 'simple', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}']), streamerVersion);
});

test('through the Broker: every event type the Trigger routes and both content modes are accepted, the rest reach no function; a malformed event gets 400 and is dead-lettered, not retried; unrelated ones are no-ops', async () => {
  const ns = await createQuickstart('e2e-rc-types');
  await settle();
  const streamer = await cluster.kubectl.json<{ apiVersion: string; kind: string; metadata: { name: string; namespace: string } }>(['get', 'streamer', 'simple', '-n', ns]);
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'simple-config', namespace: ns } };
  const refData = { apiVersion: 'v1', kind: 'ConfigMap', name: 'simple-config', namespace: ns };
  // knative/base/triggers.yaml routes a Streamer's resource.add/update and a child's
  // ref.update/delete to reconcile-children; a Streamer's resource.delete and a ConfigMap's
  // ref.add match no Trigger (Kubernetes' garbage collector and the resync handle those).
  const routed: string[] = [];
  const unrouted: string[] = [];
  for (const action of ['add', 'update', 'delete']) {
    (action === 'delete' ? unrouted : routed).push(await publish(apiServerEvent(`dev.knative.apiserver.resource.${action}`, streamer, streamer)));
    (action === 'add' ? unrouted : routed).push(await publish(apiServerEvent(`dev.knative.apiserver.ref.${action}`, ref, refData)));
  }
  // Structured content mode, as a source may send it to the ingress.
  routed.push(await publish({
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', type: 'dev.knative.apiserver.ref.update', source: 's', kind: 'ConfigMap', name: 'simple-config', namespace: ns, apiversion: 'v1', datacontenttype: 'application/json', data: refData }),
  }));
  for (const id of routed) {
    for (const d of await deliveredToReconcile(id)) assert.is(d.status, 204, `${d.eventType} ${id}`);
  }
  assert.ok(await settle(), 'deliveries settle');
  for (const id of unrouted) assert.equal(sandbox.broker.deliveries.filter((d) => d.eventId === id), [], `event ${id} reaches no function`);

  // Malformed: a Streamer's resource.update whose data is no object with metadata. Each
  // function answers 400; Knative does not retry it and hands it to the dead-letter sink.
  const sentAt = Date.now();
  const bad = await publish(apiServerEvent('dev.knative.apiserver.resource.update', streamer, { apiVersion: streamer.apiVersion, kind: 'Streamer' }));
  for (const d of await deliveredToReconcile(bad)) assert.is(d.status, 400);
  await waitFor('the malformed event dead-lettered', async () => (sandbox.broker.deliveries.some((d) => d.eventId === bad && d.trigger === 'reconcile-children' && d.deadLettered) ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
  const toKnative = sandbox.broker.deliveries.filter((d) => d.eventId === bad && d.trigger === 'reconcile-children');
  assert.ok(toKnative.every((d) => d.answers.length === 1), `no retry of a 400: ${JSON.stringify(toKnative)}`);
  // The event could not be parsed, so its log line carries no event id: the 400s since it was sent.
  const answered = (await logLines()).filter((l) => l.function === 'reconcile-children' && l.status === 400 && Date.parse(String(l.time)) >= sentAt - 1_000);
  assert.ok(answered.length > 0, 'reconcile-children logged its 400');
  for (const line of answered) assert.match(JSON.stringify(line.error), /EVENT_INVALID.*metadata/);

  // Unrelated: a ConfigMap no Streamer owns.
  await cluster.kubectl.ok(['create', 'configmap', 'unrelated', '-n', ns]);
  const before = await childVersions(kube, ns, 'simple');
  const unrelated = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: ns } };
  const other = await publish(apiServerEvent('dev.knative.apiserver.ref.update', unrelated, { ...refData, name: 'unrelated' }));
  for (const d of await deliveredToReconcile(other)) assert.is(d.status, 204);
  assert.ok((await logLines()).some((l) => l.function === 'reconcile-children' && l.eventId === other && l.outcome === 'unrelated'), 'reconcile-children found no Streamer for it');
  assert.equal(await childVersions(kube, ns, 'simple'), before);
});

test('a lost event (sources stopped during an edit) is repaired once the sources are back, by the resync their rollout starts, with no tick', async () => {
  const ns = await createQuickstart('e2e-rc-lost');
  // Let every event of the creation finish first, Knative's retries included: an in-flight or
  // retried one would read the edit below.
  assert.ok(await settle(), 'deliveries settle');
  await sandbox.stopSources();
  try {
    await cluster.kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { configExtra: { 'lost.conf': 'stream lost { input fake://x; }\n' } } })]);
    await new Promise((r) => setTimeout(r, 2_000));
    const lost = await cluster.kubectl.ok(['get', 'configmap', 'simple-config', '-n', ns, '-o', 'json']);
    assert.not.match(lost, /stream lost/, 'no event reached the function');
  } finally {
    await sandbox.startSources();
  }
  // The adapters' Deployments were made anew: once rolled out, the functions resync
  // (lib/events/source-rollout.ts), before the next PingSource tick.
  await waitFor('ConfigMap repaired by the resync after the rollout', async () => {
    const text = await cluster.kubectl.ok(['get', 'configmap', 'simple-config', '-n', ns, '-o', 'json']);
    return text.includes('stream lost') ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
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
