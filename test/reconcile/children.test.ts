// reconcileChildren against the real API server: names, idempotency, drift
// repair, the generated password, hot versus restart changes, deletion.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { reconcileChildren } from '../../lib/reconcile/children.ts';
import { quickstartManifest, type StreamerManifest } from '../fixtures/streamers.ts';
import { applyStreamer, childVersions, CHILD_KINDS, kubeFor, readStreamer } from './helpers.ts';
import type { KubeClient, KubeObject } from '../../lib/kube/client.ts';

const cluster = await useCluster();
const kube = await kubeFor(cluster);
const test = suite('reconcileChildren');

const namespace = namespacePerTest(test, cluster);

async function fresh(prefix: string, manifest: StreamerManifest = quickstartManifest) {
  const ns = await namespace(prefix);
  await applyStreamer(cluster, ns, manifest);
  const streamer = await readStreamer(kube, ns, manifest.metadata.name);
  return { ns, streamer, name: manifest.metadata.name };
}

const podOf = (ns: string, name: string) =>
  waitFor(`pod ${name}-streamer-0 Running`, async () => {
    const pod = await kube.get<KubeObject & { status?: { phase?: string } }>({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: `${name}-streamer-0` });
    return pod?.status?.phase === 'Running' && !pod.metadata.deletionTimestamp ? pod : undefined;
  }, { timeoutMs: 60_000 });

test('the quickstart gets all seven children with the documented names and a login:password', async () => {
  const { ns, streamer } = await fresh('rc-names');
  const outcome = await reconcileChildren({ kube, streamer });
  assert.equal(outcome.created.sort(), ['ConfigMap', 'Role', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount', 'StatefulSet']);
  for (const [, kind, suffix] of CHILD_KINDS) {
    const result = await cluster.kubectl(['get', kind.toLowerCase(), `simple-${suffix}`, '-n', ns]);
    assert.is(result.code, 0, `${kind} simple-${suffix}: ${result.stderr}`);
  }
  const password = await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.edit_auth}']);
  assert.match(Buffer.from(password, 'base64').toString(), /^[^:\s]+:[A-Za-z0-9_-]{32}$/);
  const events = await cluster.kubectl.ok(['get', 'events.events.k8s.io', '-n', ns, '-o', 'jsonpath={.items[*].reason}']);
  assert.match(events, /ChildrenCreated/);
});

test('the pass that creates the StatefulSet reads no Pod (the StatefulSet controls none yet); once its Pod runs, the next pass reads it and gives it its hot metadata', async () => {
  const { ns, streamer } = await fresh('rc-new-set');
  const inner = await kubeFor(cluster);
  const read: string[] = [];
  const recording: KubeClient = { ...inner, get: (key) => (read.push(key.kind), inner.get(key)) };
  const outcome = await reconcileChildren({ kube: recording, streamer });
  assert.ok(outcome.created.includes('StatefulSet'));
  assert.not.ok(read.includes('Pod'), `read: ${read.join(', ')}`);
  await podOf(ns, 'simple');
  read.length = 0;
  const next = await reconcileChildren({ kube: recording, streamer: await readStreamer(kube, ns, 'simple') });
  assert.ok(read.includes('Pod'), `read: ${read.join(', ')}`);
  assert.ok(next.podPatched, 'the running Pod got its hot metadata');
});

test('an unchanged Streamer costs zero writes and moves no resourceVersion, 10 times over', async () => {
  const { ns, streamer } = await fresh('rc-idem');
  await reconcileChildren({ kube, streamer });
  // Once the Pod runs, one more reconcile gives it its hot metadata; after that nothing is left to do.
  await podOf(ns, 'simple');
  await reconcileChildren({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  const before = await childVersions(kube, ns, 'simple');
  const counting = await kubeFor(cluster);
  for (let i = 0; i < 10; i++) await reconcileChildren({ kube: counting, streamer: await readStreamer(kube, ns, 'simple') });
  assert.is(counting.stats().writes, 0);
  assert.ok(counting.stats().reads / 10 <= 8, `reads per reconcile: ${counting.stats().reads / 10}`);
  assert.equal(await childVersions(kube, ns, 'simple'), before);
});

test('a stale Streamer (older generation) after a newer one changes nothing', async () => {
  const { ns, streamer: old } = await fresh('rc-stale');
  await reconcileChildren({ kube, streamer: old });
  await applyStreamer(cluster, ns, { ...quickstartManifest, spec: { ...quickstartManifest.spec, publicUrl: 'https://example.com/new' } });
  const current = await readStreamer(kube, ns, 'simple');
  await reconcileChildren({ kube, streamer: current });
  const before = await childVersions(kube, ns, 'simple');
  // The function always re-reads: replaying the old event means reconciling the current object.
  const counting = await kubeFor(cluster);
  await reconcileChildren({ kube: counting, streamer: await readStreamer(kube, ns, 'simple') });
  assert.is(counting.stats().writes, 0);
  assert.equal(await childVersions(kube, ns, 'simple'), before);
});

test('a hand edit of an owned StatefulSet field is reverted; a field someone else added survives', async () => {
  const { ns, streamer } = await fresh('rc-drift');
  await reconcileChildren({ kube, streamer });
  await cluster.kubectl.ok(['patch', 'statefulset', 'simple-streamer', '-n', ns, '--type=merge', '-p',
    JSON.stringify({ metadata: { annotations: { 'example.com/owner': 'someone-else' } }, spec: { template: { spec: { terminationGracePeriodSeconds: 5 } } } })]);
  await cluster.kubectl.ok(['set', 'image', 'statefulset/simple-streamer', '-n', ns, 'streamer=evil/image:1']);
  const outcome = await reconcileChildren({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  assert.equal(outcome.updated, ['StatefulSet']);
  const sts = await cluster.kubectl.json<{ metadata: { annotations: Record<string, string> }; spec: { template: { spec: { containers: { image: string }[]; terminationGracePeriodSeconds: number } } } }>(['get', 'statefulset', 'simple-streamer', '-n', ns]);
  assert.is(sts.spec.template.spec.containers[0]?.image, 'flussonic/flussonic:v26.01-5');
  assert.is(sts.metadata.annotations['example.com/owner'], 'someone-else');
  assert.is(sts.spec.template.spec.terminationGracePeriodSeconds, 5);
});

test('two concurrent first reconciles create exactly one password', async () => {
  const { ns, streamer } = await fresh('rc-race');
  const [a, b] = await Promise.all([kubeFor(cluster), kubeFor(cluster)]);
  await Promise.all([reconcileChildren({ kube: a, streamer }), reconcileChildren({ kube: b, streamer })]);
  const first = await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.edit_auth}']);
  await reconcileChildren({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  const second = await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.edit_auth}']);
  assert.ok(first.length > 0);
  assert.is(second, first);
});

test('a key the media server writes into the license Secret survives every later reconcile', async () => {
  const { ns, streamer } = await fresh('rc-keep');
  await reconcileChildren({ kube, streamer });
  const license = Buffer.from('server-written-license').toString('base64');
  await cluster.kubectl.ok(['patch', 'secret', 'simple-license-storage', '-n', ns, '--type=merge', '-p', JSON.stringify({ data: { license_state: license } })]);
  await applyStreamer(cluster, ns, { ...quickstartManifest, spec: { ...quickstartManifest.spec, version: 'v26.02-1' } });
  for (let i = 0; i < 3; i++) await reconcileChildren({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  const kept = await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.license_state}']);
  assert.is(kept, license);
});

test('hot changes (publicUrl, labels, annotations, configExtra) keep the Pod and reach it', async () => {
  const { ns, streamer } = await fresh('rc-hot');
  await reconcileChildren({ kube, streamer });
  const pod = await podOf(ns, 'simple');
  const hot: StreamerManifest = {
    ...quickstartManifest,
    spec: {
      ...quickstartManifest.spec,
      publicUrl: 'https://cdn.example.com/simple',
      labels: { tier: 'edge' },
      annotations: { 'example.com/note': 'hello' },
      configExtra: { 'extra.conf': 'stream hot { input fake://fake; }\n' },
    },
  };
  await applyStreamer(cluster, ns, hot);
  const outcome = await reconcileChildren({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  assert.not.ok(outcome.restarted);
  assert.ok(outcome.podPatched);
  const after = await podOf(ns, 'simple');
  assert.is(after.metadata.uid, pod.metadata.uid);
  assert.is(after.metadata.labels?.tier, 'edge');
  assert.is(after.metadata.annotations?.['example.com/note'], 'hello');
  assert.is(after.metadata.annotations?.['streamer.flussonic.com/public-payload'], 'https://cdn.example.com/simple');
  const config = await cluster.kubectl.ok(['get', 'configmap', 'simple-config', '-n', ns, '-o', 'json']);
  assert.match(config, /stream hot/);
  // Removing a hot label removes it from the Pod (our field manager owned it).
  await applyStreamer(cluster, ns, { ...hot, spec: { ...hot.spec, labels: {} } });
  await reconcileChildren({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  const trimmed = await podOf(ns, 'simple');
  assert.is(trimmed.metadata.labels?.tier, undefined);
  assert.is(trimmed.metadata.uid, pod.metadata.uid);
});

test('an env change replaces the Pod and records a SpecChangeRestart event', async () => {
  const { ns, streamer } = await fresh('rc-restart');
  await reconcileChildren({ kube, streamer });
  const pod = await podOf(ns, 'simple');
  await applyStreamer(cluster, ns, { ...quickstartManifest, spec: { ...quickstartManifest.spec, env: [{ name: 'MY_ENV_VAR', value: 'x' }] } });
  const outcome = await reconcileChildren({ kube, streamer: await readStreamer(kube, ns, 'simple') });
  assert.ok(outcome.restarted);
  const replaced = await waitFor('a new Pod', async () => {
    const now = await podOf(ns, 'simple').catch(() => undefined);
    return now && now.metadata.uid !== pod.metadata.uid ? now : undefined;
  }, { timeoutMs: 90_000 });
  assert.is.not(replaced.metadata.uid, pod.metadata.uid);
  const events = await cluster.kubectl.ok(['get', 'events.events.k8s.io', '-n', ns, '-o', 'jsonpath={.items[*].reason}']);
  assert.match(events, /SpecChangeRestart/);
});

test('deleting the Streamer removes every child (garbage collection)', async () => {
  const { ns, streamer } = await fresh('rc-gc');
  await reconcileChildren({ kube, streamer });
  await cluster.kubectl.ok(['delete', 'streamer', 'simple', '-n', ns, '--wait=true']);
  await waitFor('children collected', async () => {
    for (const [, kind, suffix] of CHILD_KINDS) {
      const r = await cluster.kubectl(['get', kind.toLowerCase(), `simple-${suffix}`, '-n', ns]);
      if (r.code === 0) return undefined;
    }
    return true;
  }, { timeoutMs: 90_000, intervalMs: 500 });
});

test('secret values never appear in the ConfigMap or in Events', async () => {
  const { ns, streamer } = await fresh('rc-leak');
  await reconcileChildren({ kube, streamer });
  const encoded = await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.edit_auth}']);
  const password = Buffer.from(encoded, 'base64').toString().split(':')[1] ?? '';
  assert.ok(password.length >= 20);
  const everything = await cluster.kubectl.ok(['get', 'configmaps,events.events.k8s.io,statefulsets,streamers', '-n', ns, '-o', 'json']);
  assert.not.ok(everything.includes(password));
});

test.run();
