// probeStatus against the real control plane (kwok runs the Pod): StreamerReady and
// status.ready follow the StatefulSet, `kubectl wait --for=condition=StreamerReady=true`
// works, and a replay costs no write.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isTransient } from '../../lib/events/errors.ts';
import type { KubeObject } from '../../lib/kube/client.ts';
import { probeStatus } from '../../lib/probe-status/probe-status.ts';
import type { Streamer } from '../../lib/schema/streamer.ts';
import { useCluster } from '../cluster/shared.ts';
import { freePort } from '../cluster/ports.ts';
import { waitFor } from '../cluster/wait.ts';
import { adminClient, createStreamer, eventsAbout, patchSpec, readStreamer, startStreamerPod, tokenClient } from '../status/streamers.ts';

const cluster = await useCluster();
const admin = await adminClient(cluster);
const namespace = await cluster.createNamespace('probe-status');
const NAME = 'cam';
const SET = `${NAME}-streamer`;

const fresh = () => readStreamer(admin, namespace, NAME);
const readyOf = (streamer: Streamer) => streamer.status?.conditions?.find((c) => c.type === 'StreamerReady');
const waitForReadyReplicas = (count: number) =>
  waitFor(`StatefulSet ${SET} readyReplicas ${count}`, async () => {
    const set = await admin.get<KubeObject & { status?: { readyReplicas?: number } }>({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: SET });
    return (set?.status?.readyReplicas ?? 0) === count ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100 });
const kubectlWait = (timeout: string) =>
  cluster.kubectl(['wait', '-n', namespace, '--for=condition=StreamerReady=true', `streamer/${NAME}`, `--timeout=${timeout}`]);

const probe = suite('probeStatus');

probe('no StatefulSet yet → False/StatefulSetNotFound, ready false', async () => {
  const streamer = await createStreamer(admin, { namespace, name: NAME });
  const outcome = await probeStatus({ kube: admin, streamer });
  assert.equal([outcome.status, outcome.reason, outcome.ready, outcome.written], ['False', 'StatefulSetNotFound', false, true]);
  const stored = await fresh();
  assert.is(stored.status?.ready, false);
  assert.is(readyOf(stored)?.reason, 'StatefulSetNotFound');
  assert.is(readyOf(stored)?.observedGeneration, stored.metadata.generation);
});

probe('a ready replica → True/StatefulSetReady, ready true, a Normal Event', async () => {
  await startStreamerPod(admin, await fresh());
  await waitForReadyReplicas(1);
  const outcome = await probeStatus({ kube: admin, streamer: await fresh() });
  assert.equal([outcome.status, outcome.reason, outcome.ready, outcome.transitioned], ['True', 'StatefulSetReady', true, true]);
  const stored = await fresh();
  assert.is(stored.status?.ready, true);
  assert.match(readyOf(stored)?.message ?? '', /1 of 1 replicas ready/);
  const events = await eventsAbout(admin, stored);
  assert.ok(events.some((e) => e.reason === 'StatefulSetReady' && e.type === 'Normal' && e.action === 'Probe'), JSON.stringify(events));
});

probe('kubectl wait --for=condition=StreamerReady=true succeeds', async () => {
  const result = await kubectlWait('10s');
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /condition met/);
});

probe('a replay with nothing changed costs two reads (StatefulSet and Pod, at once) and zero writes', async () => {
  const kube = await adminClient(cluster);
  const before = await fresh();
  const outcome = await probeStatus({ kube, streamer: before });
  assert.not.ok(outcome.written);
  assert.equal(kube.stats(), { reads: 2, writes: 0 });
  assert.is((await fresh()).metadata.resourceVersion, before.metadata.resourceVersion);
});

probe('after a spec edit kubectl wait holds until the condition observes the new generation', async () => {
  const edited = await patchSpec(admin, await fresh(), { publicUrl: 'https://example.com/cam' });
  const stale = await kubectlWait('1s');
  assert.is.not(stale.code, 0, 'observedGeneration is behind metadata.generation');
  const lastTransition = readyOf(edited)?.lastTransitionTime;
  const outcome = await probeStatus({ kube: admin, streamer: edited });
  assert.ok(outcome.written);
  assert.not.ok(outcome.transitioned);
  const stored = await fresh();
  assert.is(readyOf(stored)?.observedGeneration, edited.metadata.generation);
  assert.is(readyOf(stored)?.lastTransitionTime, lastTransition, 'status unchanged: lastTransitionTime kept');
  const result = await kubectlWait('10s');
  assert.is(result.code, 0, result.stderr);
});

probe('the Pod not ready → False/NoReadyReplicas, ready false', async () => {
  const pod = `${NAME}-streamer-0`;
  const notReady = (type: string) => ({ type, status: 'False', reason: 'TestNotReady', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
  // kwok only sets Ready on Pending pods, so it leaves this alone; the StatefulSet controller follows.
  await admin.patch({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod }, { status: { conditions: [notReady('Ready'), notReady('ContainersReady')] } }, { subresource: 'status' });
  await waitForReadyReplicas(0);
  const outcome = await probeStatus({ kube: admin, streamer: await fresh() });
  assert.equal([outcome.status, outcome.reason, outcome.ready], ['False', 'NoReadyReplicas', false]);
  const stored = await fresh();
  assert.is(stored.status?.ready, false);
  assert.match(readyOf(stored)?.message ?? '', /Pod cam-streamer-0 is Running but not ready/);
  const events = await eventsAbout(admin, stored);
  assert.equal(events.at(-1)?.reason, 'NoReadyReplicas');
  assert.is(events.at(-1)?.type, 'Normal', 'not ready yet is progress, not a page');
});

probe('the StatefulSet deleted → False/StatefulSetNotFound', async () => {
  await cluster.kubectl.ok(['delete', 'statefulset', SET, '-n', namespace, '--wait=true']);
  const outcome = await probeStatus({ kube: admin, streamer: await fresh() });
  assert.equal([outcome.status, outcome.reason, outcome.ready], ['False', 'StatefulSetNotFound', false]);
  assert.is(readyOf(await fresh())?.reason, 'StatefulSetNotFound');
});

probe('a StatefulSet it may not read → Unknown/StatefulSetUnreadable with the API error, no retry for 403', async () => {
  // A ServiceAccount that may read Streamers, write their status and record Events, but not read StatefulSets.
  const rbac = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'limited', namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'limited', namespace },
      rules: [
        { apiGroups: ['media.flussonic.com'], resources: ['streamers'], verbs: ['get'] },
        { apiGroups: ['media.flussonic.com'], resources: ['streamers/status'], verbs: ['patch'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'limited', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'limited' },
      subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace }],
    },
  ];
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }) });
  const token = (await cluster.kubectl.ok(['create', 'token', 'limited', '-n', namespace, '--duration=10m'])).trim();
  const limited = tokenClient(cluster, token, 'probe-test');
  const outcome = await waitFor('RBAC to take effect', async () => {
    const result = await probeStatus({ kube: limited, streamer: await fresh() });
    return result.status === 'Unknown' ? result : undefined;
  }, { timeoutMs: 10_000, intervalMs: 200 });
  assert.equal([outcome.status, outcome.reason, outcome.ready], ['Unknown', 'StatefulSetUnreadable', false]);
  const condition = readyOf(await fresh());
  assert.is(condition?.status, 'Unknown');
  assert.match(condition?.message ?? '', /could not be read: .*403 Forbidden/);
});

probe('an API server it cannot reach → a retryable error', async () => {
  const port = await freePort(); // nothing listens there
  const unreachable = tokenClient({ ...cluster, server: `https://127.0.0.1:${port}` }, 'unused');
  const error = await probeStatus({ kube: unreachable, streamer: await fresh() }).catch((e: unknown) => e);
  assert.instance(error, Error);
  assert.ok(isTransient(error), String(error));
});

probe.run();
