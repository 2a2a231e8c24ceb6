// reconcile-children narrowed to the child an event names. Against the real API server: once a
// generation has converged (ChildrenReady True for it), an event about one child reads that
// child alone (the StatefulSet with its Pod, the Pod with its StatefulSet) and repairs its
// drift; a deleted child runs the full pass, which creates it again; a generation not yet
// converged, or a Streamer event, always gets the full pass.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { definition } from '../../functions/reconcile-children/definition.ts';
import type { KubeObject } from '../../lib/kube/client.ts';
import { reconcileAndReport } from '../../lib/reconcile/children-condition.ts';
import { useCluster } from '../cluster/shared.ts';
import { adminClient, createStreamer, readStreamer, waitForRunningPod } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('narrowed-pass');

const test = suite('reconcile-children: a pass narrowed to the child an event names');

/** A Streamer whose children exist, whose Pod runs, and whose ChildrenReady is True for its generation. */
async function converged(name: string, spec: Record<string, unknown> = {}) {
  const created = await createStreamer(admin, { namespace, name, spec });
  const reported = await reconcileAndReport({ kube: admin, streamer: created, reportingInstance: 'replica-a' });
  assert.is(reported.kind, 'applied');
  await waitForRunningPod(admin, await readStreamer(admin, namespace, name));
  // The Pod came after the first pass: a second gives it its hot metadata, as its add event would.
  await reconcileAndReport({ kube: admin, streamer: await readStreamer(admin, namespace, name), reportingInstance: 'replica-a' });
  return readStreamer(admin, namespace, name);
}

const work = async (streamer: Awaited<ReturnType<typeof converged>>, cause: { kind: string; action: string }) => {
  const kube = await adminClient(cluster, 'streamer-operator');
  const result = (await definition.work({ kube, streamer, cause })) as Record<string, unknown>;
  return { result, stats: kube.stats() };
};

test('a drifted ConfigMap of a converged generation: one read, one write, the data back', async () => {
  const streamer = await converged('drift');
  const key = { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'drift-config' };
  const before = await admin.get<KubeObject & { data?: Record<string, string> }>(key);
  await admin.patch(key, { data: Object.fromEntries(Object.keys(before?.data ?? {}).map((k) => [k, 'tampered'])) });
  const { result, stats } = await work(streamer, { kind: 'ConfigMap', action: 'update' });
  assert.is(result.only, 'ConfigMap');
  assert.equal(result.updated, ['ConfigMap']);
  assert.equal(stats, { reads: 1, writes: 1 });
  assert.equal((await admin.get<KubeObject & { data?: Record<string, string> }>(key))?.data, before?.data);
});

test('a StatefulSet update (its controller writing status) reads the StatefulSet and its Pod, writes nothing', async () => {
  const streamer = await converged('sts');
  const { result, stats } = await work(streamer, { kind: 'StatefulSet', action: 'update' });
  assert.is(result.only, 'StatefulSet');
  assert.equal(stats, { reads: 2, writes: 0 });
});

test('a new Pod reads the StatefulSet and the Pod, and gets its hot labels (and once it has them, no write)', async () => {
  const streamer = await converged('pod', { labels: { team: 'video' } });
  const podKey = { apiVersion: 'v1', kind: 'Pod', namespace, name: 'pod-streamer-0' };
  // A Pod the StatefulSet just made carries only the template's labels.
  await admin.patch(podKey, { metadata: { labels: { team: null } } });
  const { result, stats } = await work(streamer, { kind: 'Pod', action: 'add' });
  assert.is(result.only, 'Pod');
  assert.is(result.podPatched, true);
  assert.equal(stats, { reads: 2, writes: 1 });
  assert.is((await admin.get(podKey))?.metadata.labels?.team, 'video');
  const again = await work(streamer, { kind: 'Pod', action: 'add' });
  assert.equal(again.stats, { reads: 2, writes: 0 });
});

test('a deleted child: the narrowed pass finds it missing and the full pass creates it again', async () => {
  const streamer = await converged('deleted');
  const key = { apiVersion: 'v1', kind: 'Service', namespace, name: 'deleted-headless' };
  await admin.delete(key);
  const { result, stats } = await work(streamer, { kind: 'Service', action: 'delete' });
  assert.is(result.only, undefined, 'not narrowed');
  assert.equal(result.created, ['Service']);
  assert.ok(stats.reads >= 8, `the full pass read every child: ${JSON.stringify(stats)}`);
  assert.ok(await admin.get(key), 'the Service exists again');
});

test('a child event of a generation not converged yet, and a Streamer event, get the full pass', async () => {
  const created = await createStreamer(admin, { namespace, name: 'fresh' });
  const first = await work(created, { kind: 'ConfigMap', action: 'update' });
  assert.is(first.result.only, undefined);
  assert.ok(first.stats.reads >= 8, JSON.stringify(first.stats));
  const streamer = await readStreamer(admin, namespace, 'fresh');
  const again = await work(streamer, { kind: 'Streamer', action: 'add' });
  assert.is(again.result.only, undefined);
  assert.ok(again.stats.reads >= 8, JSON.stringify(again.stats));
});

test.run();
