// The real ApiServerSource adapter → our event handler (functions-framework, loopback) → the
// real API server: proves parseEvent and resolveStreamer against the events Knative really sends.
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectEvent } from '../../lib/events/event-types.ts';
import { makeEventHandler, type EventLogLine } from '../../lib/events/handler.ts';
import type { StreamerTarget } from '../../lib/events/resolve-streamer.ts';
import { createKubeClient } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { startAdapter, type RunningAdapter } from './adapter.ts';

const cluster = await useCluster();
const kube = createKubeClient({ transport: await transportFromKubeconfig(cluster.kubeconfig), fieldManager: 'events-test' });

const received: { target: StreamerTarget; event: ObjectEvent }[] = [];
const logs: EventLogLine[] = [];
ff.http(
  'adapter-sink',
  makeEventHandler({
    name: 'adapter-sink',
    reader: kube,
    onObject: async (target, event) => void received.push({ target, event }),
    onResync: async () => {},
    log: (line) => logs.push(line),
  }),
);
const sink = getTestServer('adapter-sink');

const e2e = suite('ApiServerSource adapter → makeEventHandler');
let ns = '';
let uid = '';
const adapters: RunningAdapter[] = [];

const json = (value: unknown) => JSON.stringify(value);
const owned = (kind: string, name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind,
  metadata: {
    name,
    namespace: ns,
    ownerReferences: [{ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', name: 'cam1', uid, controller: true, blockOwnerDeletion: true }],
  },
  ...extra,
});

function eventFor(type: string, kind: string, name: string) {
  return waitFor(`${type} for ${kind} ${name}`, async () =>
    received.find((r) => r.event.type === type && r.event.ref.kind === kind && r.event.ref.name === name), { timeoutMs: 30_000, intervalMs: 50 });
}

e2e.before(async () => {
  ns = await cluster.createNamespace('events');
  const streamer = { ...quickstartManifest, metadata: { name: 'cam1', namespace: ns } };
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: json(streamer) });
  uid = (await cluster.kubectl.json<{ metadata: { uid: string } }>(['get', 'streamer', 'cam1', '-n', ns])).metadata.uid;
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;
  const common = { binDir: cluster.binDir, kubeconfig: cluster.kubeconfig, sink: url, namespaces: [ns] };
  // The two-source layout of knative.md §10: Streamers without an owner filter, children with one.
  adapters.push(await startAdapter({ ...common, name: 'streamers', mode: 'Reference', resources: [{ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer' }] }));
  adapters.push(await startAdapter({
    ...common,
    name: 'children',
    mode: 'Resource',
    owner: { apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer' },
    resources: [{ apiVersion: 'v1', kind: 'ConfigMap' }, { apiVersion: 'v1', kind: 'Secret' }],
  }));
});

e2e.after(async () => {
  for (const adapter of adapters) await adapter.stop();
  sink.closeAllConnections();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
});

e2e('a Streamer update arrives in Reference mode and maps to the Streamer', async () => {
  await cluster.kubectl.ok(['label', 'streamer', 'cam1', '-n', ns, 'touched=yes']);
  const { target, event } = await eventFor('dev.knative.apiserver.ref.update', 'Streamer', 'cam1');
  assert.is(event.mode, 'reference');
  assert.equal(event.ref, { apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', namespace: ns, name: 'cam1' });
  assert.is(target.name, 'cam1');
  assert.is(target.namespace, ns);
});

e2e('an owned ConfigMap: add, update and delete arrive in Resource mode and map to its Streamer', async () => {
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: json(owned('ConfigMap', 'cam1-config', { data: { a: '1' } })) });
  const added = await eventFor('dev.knative.apiserver.resource.add', 'ConfigMap', 'cam1-config');
  assert.is(added.target.name, 'cam1');
  assert.equal((added.event.object as { data: unknown }).data, { a: '1' });

  await cluster.kubectl.ok(['patch', 'configmap', 'cam1-config', '-n', ns, '--type=merge', '-p', json({ data: { a: '2' } })]);
  const updated = await eventFor('dev.knative.apiserver.resource.update', 'ConfigMap', 'cam1-config');
  assert.equal((updated.event.object as { data: unknown }).data, { a: '2' });

  await cluster.kubectl.ok(['delete', 'configmap', 'cam1-config', '-n', ns]);
  const deleted = await eventFor('dev.knative.apiserver.resource.delete', 'ConfigMap', 'cam1-config');
  // The object is gone; the owner reference in the payload still names the Streamer.
  assert.is(deleted.target.name, 'cam1');
});

e2e('an owned Secret maps to its Streamer and its data never reaches the log', async () => {
  const secretValue = 'adapter-e2e-S3cret';
  const encoded = Buffer.from(secretValue).toString('base64');
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: json(owned('Secret', 'cam1-license-storage', { data: { edit_auth: encoded } })) });
  const added = await eventFor('dev.knative.apiserver.resource.add', 'Secret', 'cam1-license-storage');
  assert.is(added.target.name, 'cam1');
  const line = logs.find((l) => l.object === `Secret ${ns}/cam1-license-storage`);
  assert.ok(line, 'a log line for the Secret event');
  assert.is(line?.outcome, 'done');
  assert.not.ok(JSON.stringify(logs).includes(encoded));
  assert.not.ok(JSON.stringify(logs).includes(secretValue));
});

e2e('every event was answered 204 and logged once', async () => {
  assert.ok(logs.length >= received.length);
  for (const line of logs) {
    assert.is(line.status, 204, JSON.stringify(line));
    assert.is(line.function, 'adapter-sink');
    assert.match(line.eventId ?? '', /^[0-9a-f-]{36}$/);
  }
});

e2e.run();
