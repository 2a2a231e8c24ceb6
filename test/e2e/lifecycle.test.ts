// Changes Kubernetes cannot apply in place, end to end on real Knative Eventing (sealed cluster,
// `kubectl apply -k knative/`: the ApiServerSources, Broker, Triggers and PingSource, Knative's
// own retries and dead-letter sink), the three functions in two replicas of the ksvc stand-in,
// and the media-server double run as each streamer Pod. Deliveries are read from the tests'
// delivery proxy in front of the functions. The Pod's uid shows where a restart happened and
// where it must not; the keys the media server wrote into the license-storage Secret must
// survive everything.
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { kwokNode } from '../cluster/index.ts';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest, type StreamerManifest } from '../fixtures/streamers.ts';
import { useRealSandbox } from './sandbox.ts';

const { cluster, sandbox } = await useRealSandbox({ replicas: 2 });
const kubectl = cluster.kubectl;
const test = suite('lifecycle end to end: recreate, stuck rollouts, taken names, tainted nodes, deletion');

const namespace = namespacePerTest(test, cluster);
test.after(async () => {
  await sandbox.stop();
});

type Pod = {
  metadata: { uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] };
};
type Condition = { type: string; status: string; reason: string; message: string; observedGeneration?: number };
type StreamerView = { metadata: { uid: string; generation: number }; status?: { conditions?: Condition[] } };

const MEDIA_SERVER_KEY = 'license_state';
const mediaServerValue = Buffer.from('written-by-the-media-server').toString('base64');

async function withLicense(prefix: string): Promise<string> {
  const ns = await namespace(prefix);
  await kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test']);
  return ns;
}

const apply = (ns: string, manifest: StreamerManifest) => kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(manifest) });
const patchSpec = (ns: string, spec: unknown, name = 'simple') =>
  kubectl.ok(['patch', 'streamer', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec })]);
const getPod = async (ns: string, name = 'simple') => {
  const result = await kubectl(['get', 'pod', `${name}-streamer-0`, '-n', ns, '-o', 'json']);
  return result.code === 0 ? (JSON.parse(result.stdout) as Pod) : undefined;
};
const isReady = (pod: Pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const exists = async (ns: string, kind: string, name: string) => (await kubectl(['get', kind, name, '-n', ns])).code === 0;

/** The streamer Pod once it runs Ready and is not `notUid` (the one it must replace). */
function readyPod(ns: string, { notUid, image, timeoutMs = 60_000 }: { notUid?: string; image?: string; timeoutMs?: number } = {}) {
  return waitFor(`a Ready streamer Pod in ${ns}${notUid ? ` other than ${notUid}` : ''}`, async () => {
    const pod = await getPod(ns);
    if (!pod || pod.metadata.deletionTimestamp || !isReady(pod) || pod.metadata.uid === notUid) return undefined;
    if (image && pod.spec.containers[0]?.image !== image) return undefined;
    return pod;
  }, { timeoutMs, intervalMs: 200 });
}

async function condition(ns: string, type: string, ok: (c: Condition, s: StreamerView) => boolean, timeoutMs = 60_000) {
  return waitFor(`${type} in ${ns}`, async () => {
    const streamer = await kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
    const found = streamer.status?.conditions?.find((c) => c.type === type);
    return found && ok(found, streamer) ? found : undefined;
  }, { timeoutMs, intervalMs: 200 });
}

/** The license-storage Secret's data, after the media server wrote a key of its own into it. */
async function withServerKey(ns: string): Promise<Record<string, string>> {
  await kubectl.ok(['patch', 'secret', 'simple-license-storage', '-n', ns, '--type=merge', '-p', JSON.stringify({ data: { [MEDIA_SERVER_KEY]: mediaServerValue } })]);
  return secretData(ns);
}
const secretData = async (ns: string) =>
  (await kubectl.json<{ data: Record<string, string> }>(['get', 'secret', 'simple-license-storage', '-n', ns])).data;

const eventsOf = async (ns: string) =>
  (await kubectl.json<{ items: { reason: string; note?: string; type: string }[] }>(['get', 'events.events.k8s.io', '-n', ns])).items;

/** Waits until no delivery has been in flight for a second. */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const count = sandbox.broker.deliveries.length;
    await sandbox.broker.idle();
    await new Promise((r) => setTimeout(r, 1_000));
    if (sandbox.broker.deliveries.length === count) return;
  }
}

async function createQuickstart(prefix: string) {
  const ns = await withLicense(prefix);
  await apply(ns, quickstartManifest);
  const pod = await readyPod(ns);
  await condition(ns, 'StreamerReady', (c) => c.status === 'True');
  return { ns, pod };
}

// --- 1. immutable fields

test('changing selectorLabels recreates the StatefulSet: one new Pod, the Service and Pod labels follow, the Secret is kept, a Normal Event says why', async () => {
  const { ns, pod: before } = await createQuickstart('e2e-lc-selector');
  const setBefore = await kubectl.json<{ metadata: { uid: string } }>(['get', 'statefulset', 'simple-streamer', '-n', ns]);
  const secret = await withServerKey(ns);
  const started = Date.now();
  await patchSpec(ns, { selectorLabels: { app: 'renamed' } });

  const after = await readyPod(ns, { notUid: before.metadata.uid });
  const seconds = (Date.now() - started) / 1000;
  assert.is(after.metadata.labels?.app, 'renamed');
  const set = await kubectl.json<{ metadata: { uid: string }; spec: { selector: { matchLabels: Record<string, string> } } }>(['get', 'statefulset', 'simple-streamer', '-n', ns]);
  assert.is.not(set.metadata.uid, setBefore.metadata.uid, 'a new StatefulSet');
  assert.equal(set.spec.selector.matchLabels, { app: 'renamed' });
  const service = await kubectl.json<{ spec: { selector: Record<string, string> } }>(['get', 'service', 'simple-headless', '-n', ns]);
  assert.equal(service.spec.selector, { app: 'renamed' });
  // The documented api-endpoint resolves again: the headless Service selects the new Pod, and
  // its EndpointSlice (made by the real controller manager) holds the new Pod's IP.
  for (const [key, value] of Object.entries(service.spec.selector)) assert.is(after.metadata.labels?.[key], value, `Pod label ${key}`);
  const newIp = (await kubectl.ok(['get', 'pod', 'simple-streamer-0', '-n', ns, '-o', 'jsonpath={.status.podIP}'])).trim();
  assert.ok(newIp, 'the new Pod has an IP');
  await waitFor('the headless Service\'s EndpointSlice holding the new Pod', async () => {
    const slices = await kubectl.json<{ items: { endpoints?: { addresses: string[]; targetRef?: { uid?: string } }[] }[] }>(['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=simple-headless']);
    const endpoints = slices.items.flatMap((s) => s.endpoints ?? []);
    return endpoints.length === 1 && endpoints[0]?.addresses.includes(newIp) && endpoints[0].targetRef?.uid === after.metadata.uid ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  assert.equal(await secretData(ns), secret, 'edit_auth and the media server key are kept');
  const recreated = (await eventsOf(ns)).find((e) => e.reason === 'StatefulSetRecreated');
  assert.ok(recreated, 'a StatefulSetRecreated Event');
  assert.is(recreated!.type, 'Normal');
  assert.match(recreated!.note ?? '', /spec\.selector/);
  await condition(ns, 'StreamerReady', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  await condition(ns, 'StreamerConfigSaved', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  await condition(ns, 'ChildrenReady', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  // Exactly one restart: once settled, the new Pod stays.
  await settle();
  assert.is((await getPod(ns))?.metadata.uid, after.metadata.uid);
  process.stdout.write(`  selectorLabels change to a Ready new Pod: ${seconds.toFixed(1)} s\n`);
});

// --- 2. stuck rollouts

test('a version whose Pod never becomes Ready, then fixed: the rollout does not stick, the fixed Pod becomes Ready', async () => {
  const { ns, pod: first } = await createQuickstart('e2e-lc-stuck');
  const secret = await withServerKey(ns);
  await patchSpec(ns, { version: 'v26.02-never-ready' });
  const broken = await waitFor('the never-ready Pod in CrashLoopBackOff', async () => {
    const pod = await getPod(ns);
    const waiting = pod?.status.containerStatuses?.[0]?.state?.waiting?.reason;
    return pod && pod.metadata.uid !== first.metadata.uid && waiting === 'CrashLoopBackOff' && !isReady(pod) ? pod : undefined;
  }, { timeoutMs: 60_000 });
  await condition(ns, 'StreamerReady', (c) => c.status === 'False');

  const started = Date.now();
  await patchSpec(ns, { version: 'v26.02-1' });
  const fixed = await readyPod(ns, { notUid: broken.metadata.uid, image: 'flussonic/flussonic:v26.02-1' });
  const seconds = (Date.now() - started) / 1000;
  assert.is.not(fixed.metadata.uid, first.metadata.uid);
  assert.ok((await eventsOf(ns)).some((e) => e.reason === 'StuckRolloutUnblocked' && e.type === 'Normal'));
  assert.equal(await secretData(ns), secret);
  await condition(ns, 'StreamerReady', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  await settle();
  assert.is((await getPod(ns))?.metadata.uid, fixed.metadata.uid, 'the fixed Pod is not deleted');
  process.stdout.write(`  fixed version to a Ready Pod after a never-Ready one: ${seconds.toFixed(1)} s\n`);
});

// --- 3. taken names

test('names taken by the user\'s ConfigMap and Role: untouched while they exist, reported, and the Streamer converges once they are deleted', async () => {
  const ns = await withLicense('e2e-lc-taken');
  await kubectl.ok(['create', 'configmap', 'simple-config', '-n', ns, '--from-literal=mine=keep me']);
  await kubectl.ok(['create', 'role', 'simple-role', '-n', ns, '--verb=get', '--resource=configmaps']);
  const read = (kind: string, name: string) => kubectl.json<{ metadata: { resourceVersion: string; ownerReferences?: unknown[] }; data?: unknown; rules?: unknown }>(['get', kind, name, '-n', ns]);
  const [configBefore, roleBefore] = [await read('configmap', 'simple-config'), await read('role', 'simple-role')];
  await apply(ns, quickstartManifest);

  // The children that do not depend on the taken names are created; the rest wait.
  await waitFor('the independent children', async () =>
    (await exists(ns, 'serviceaccount', 'simple-sa')) && (await exists(ns, 'service', 'simple-headless')) && (await exists(ns, 'secret', 'simple-license-storage')) ? true : undefined);
  const from = sandbox.broker.deliveries.length;
  const reported = await condition(ns, 'ChildrenReady', (c) => c.status === 'False');
  assert.is(reported.reason, 'ChildConflict');
  assert.match(reported.message, /ConfigMap simple-config/);
  assert.match(reported.message, /Role simple-role/);
  assert.match(reported.message, /not controlled by this Streamer/);
  await settle();
  assert.not.ok(await exists(ns, 'statefulset', 'simple-streamer'), 'no StatefulSet mounting someone else\'s ConfigMap');
  assert.not.ok(await exists(ns, 'rolebinding', 'simple-rb'), 'no RoleBinding to someone else\'s Role');
  for (const [kind, name, before] of [['configmap', 'simple-config', configBefore], ['role', 'simple-role', roleBefore]] as const) {
    const now = await read(kind, name);
    assert.is(now.metadata.resourceVersion, before.metadata.resourceVersion, `${kind} untouched`);
    assert.is(now.metadata.ownerReferences, undefined, `${kind} not adopted`);
  }
  // Reported, not retried: no delivery about this Streamer ends in a dead letter.
  assert.equal(sandbox.broker.deliveries.slice(from).filter((d) => d.deadLettered), []);

  // Resolving it: the user deletes both. They carry no operator label, so no event announces
  // it; the next resync tick does.
  await kubectl.ok(['delete', 'configmap', 'simple-config', '-n', ns]);
  await kubectl.ok(['delete', 'role', 'simple-role', '-n', ns]);
  await sandbox.tick();
  const pod = await readyPod(ns);
  const streamer = await kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
  for (const [kind, name] of [['configmap', 'simple-config'], ['role', 'simple-role'], ['rolebinding', 'simple-rb'], ['statefulset', 'simple-streamer']]) {
    const child = await kubectl.json<{ metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } }>(['get', kind!, name!, '-n', ns]);
    assert.ok(child.metadata.ownerReferences?.some((r) => r.controller && r.uid === streamer.metadata.uid), `${kind} is the Streamer's`);
  }
  await condition(ns, 'StreamerReady', (c) => c.status === 'True');
  await condition(ns, 'ChildrenReady', (c) => c.status === 'True');
  assert.ok(pod.metadata.uid);
});

test('a user\'s ServiceAccount with the child\'s name is neither adopted nor garbage-collected with the Streamer', async () => {
  const ns = await withLicense('e2e-lc-keep-sa');
  await kubectl.ok(['create', 'serviceaccount', 'simple-sa', '-n', ns]);
  const before = await kubectl.json<{ metadata: { uid: string; resourceVersion: string } }>(['get', 'serviceaccount', 'simple-sa', '-n', ns]);
  await apply(ns, quickstartManifest);
  const reported = await condition(ns, 'ChildrenReady', (c) => c.status === 'False');
  assert.match(reported.message, /ServiceAccount simple-sa \(no controller\) exists and is not controlled by this Streamer/);
  await kubectl.ok(['delete', 'streamer', 'simple', '-n', ns, '--wait=true']);
  await waitFor('the Streamer\'s own children collected', async () =>
    !(await exists(ns, 'secret', 'simple-license-storage')) && !(await exists(ns, 'configmap', 'simple-config')) ? true : undefined, { timeoutMs: 60_000 });
  const after = await kubectl.json<{ metadata: { uid: string; resourceVersion: string; ownerReferences?: unknown[] } }>(['get', 'serviceaccount', 'simple-sa', '-n', ns]);
  assert.is(after.metadata.uid, before.metadata.uid);
  assert.is(after.metadata.resourceVersion, before.metadata.resourceVersion);
  assert.is(after.metadata.ownerReferences, undefined);
});

test('children Flussonic\'s own operator made for the same Streamer are adopted: its StatefulSet (another selector) recreated, its edit_auth and the server\'s keys kept', async () => {
  const ns = await withLicense('e2e-lc-adopt');
  // The Streamer ran under the other operator: ours is not installed yet (no sources).
  await settle();
  await sandbox.stopSources();
  let streamer: StreamerView;
  let old: Pod;
  const editAuth = Buffer.from('root:set-by-the-old-operator').toString('base64');
  try {
    await apply(ns, quickstartManifest);
    streamer = await kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
    const owner = [{ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', name: 'simple', uid: streamer.metadata.uid, controller: true, blockOwnerDeletion: true }];
    const meta = (name: string) => ({ name, namespace: ns, labels: { app: 'simple' }, ownerReferences: owner });
    const objects = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('simple-sa') },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta('simple-role'),
        rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['simple-license-storage'], verbs: ['get', 'update', 'patch'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta('simple-rb'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'simple-role' }, subjects: [{ kind: 'ServiceAccount', name: 'simple-sa', namespace: ns }] },
      { apiVersion: 'v1', kind: 'Secret', metadata: meta('simple-license-storage'), type: 'Opaque',
        data: { edit_auth: editAuth, [MEDIA_SERVER_KEY]: mediaServerValue } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('simple-config'),
        data: { 'k8s.conf': 'http 80 {api false;} http 81;', 'legacy.conf': 'rtmp 1935;' } },
      { apiVersion: 'v1', kind: 'Service', metadata: meta('simple-headless'),
        spec: { clusterIP: 'None', selector: { app: 'simple' }, ports: [{ name: 'data', port: 80 }, { name: 'api', port: 81 }] } },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('simple-streamer'),
        spec: {
          replicas: 1, serviceName: 'simple-headless', selector: { matchLabels: { app: 'simple' } },
          template: {
            metadata: { labels: { app: 'simple' } },
            spec: {
              serviceAccountName: 'simple-sa', nodeName: 'stream-node',
              containers: [{
                name: 'flussonic', image: 'flussonic/flussonic:v26.01-5',
                ports: [{ name: 'data', containerPort: 80 }, { name: 'api', containerPort: 81 }],
                env: [{ name: 'FLUSSONIC_EDIT_AUTH', valueFrom: { secretKeyRef: { name: 'simple-license-storage', key: 'edit_auth' } } },
                  { name: 'FLUSSONIC_SECRETS_STORAGE', value: 'k8s://simple-license-storage' }],
                volumeMounts: [{ name: 'config', mountPath: '/etc/flussonic/flussonic.conf.d/k8s.conf', subPath: 'k8s.conf' }],
              }],
              volumes: [{ name: 'config', configMap: { name: 'simple-config' } }],
            },
          },
        } },
    ];
    await kubectl.ok(['apply', '--server-side', '--field-manager=media-server-controller', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
    // Seen while no source (nor the PingSource) runs, so nothing of ours can have touched it.
    old = await waitFor('the old operator\'s Pod running', async () => {
      const pod = await getPod(ns);
      return pod && isReady(pod) && pod.metadata.labels?.app === 'simple' && !pod.metadata.labels['app.kubernetes.io/managed-by'] ? pod : undefined;
    });
  } finally {
    await sandbox.startSources();
  }
  const oldSet = await kubectl.json<{ metadata: { uid: string } }>(['get', 'statefulset', 'simple-streamer', '-n', ns]);

  // Our operator arrives: it sees what already exists at its first resync tick.
  await sandbox.tick();
  const pod = await readyPod(ns, { notUid: old!.metadata.uid });
  const set = await kubectl.json<{ metadata: { uid: string; labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> } } }>(['get', 'statefulset', 'simple-streamer', '-n', ns]);
  assert.is.not(set.metadata.uid, oldSet.metadata.uid, 'recreated');
  assert.equal(set.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'flussonic', 'app.kubernetes.io/instance': 'simple' });
  assert.is(pod.metadata.labels?.['app.kubernetes.io/managed-by'], 'streamer-operator');
  const service = await kubectl.json<{ spec: { selector: Record<string, string> } }>(['get', 'service', 'simple-headless', '-n', ns]);
  assert.equal(service.spec.selector, set.spec.selector.matchLabels);
  const data = await secretData(ns);
  assert.is(data.edit_auth, editAuth, 'the old operator\'s edit_auth is kept');
  assert.is(data[MEDIA_SERVER_KEY], mediaServerValue, 'the media server\'s key is kept');
  const config = await kubectl.json<{ data: Record<string, string> }>(['get', 'configmap', 'simple-config', '-n', ns]);
  assert.is(config.data['legacy.conf'], undefined, 'the old operator\'s extra conf.d file is gone');
  assert.match(config.data['k8s.conf'] ?? '', /Generated by streamer-operator/);
  assert.ok((await eventsOf(ns)).some((e) => e.reason === 'StatefulSetRecreated' && /another controller/.test(e.note ?? '')));
  // The media server (double) started with the kept password, and push-config saves with it.
  await condition(ns, 'StreamerConfigSaved', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  await condition(ns, 'StreamerReady', (c) => c.status === 'True');
  await condition(ns, 'ChildrenReady', (c) => c.status === 'True');
  const owner = await kubectl.json<{ metadata: { ownerReferences: { uid: string }[] } }>(['get', 'secret', 'simple-license-storage', '-n', ns]);
  assert.is(owner.metadata.ownerReferences[0]?.uid, streamer!.metadata.uid);
});

test('a Streamer deleted and created again at once under the same name: the old one\'s leftovers are never adopted, and it converges once they are collected', async () => {
  const { ns, pod: old } = await createQuickstart('e2e-lc-again');
  const first = await kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
  const from = sandbox.broker.deliveries.length;
  await kubectl.ok(['delete', 'streamer', 'simple', '-n', ns, '--wait=false']);
  await apply(ns, quickstartManifest);
  const second = await kubectl.json<StreamerView>(['get', 'streamer', 'simple', '-n', ns]);
  assert.is.not(second.metadata.uid, first.metadata.uid);
  const pod = await readyPod(ns, { notUid: old.metadata.uid, timeoutMs: 90_000 });
  await condition(ns, 'ChildrenReady', (c) => c.status === 'True', 60_000);
  for (const [kind, name] of [['statefulset', 'simple-streamer'], ['configmap', 'simple-config'], ['secret', 'simple-license-storage'], ['service', 'simple-headless'], ['serviceaccount', 'simple-sa'], ['role', 'simple-role'], ['rolebinding', 'simple-rb']]) {
    const child = await kubectl.json<{ metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } }>(['get', kind!, name!, '-n', ns]);
    assert.equal(child.metadata.ownerReferences?.filter((r) => r.controller).map((r) => r.uid), [second.metadata.uid], `${kind} belongs to the new Streamer only`);
  }
  assert.ok(pod.metadata.uid);
  await settle();
  assert.equal(sandbox.broker.deliveries.slice(from).filter((d) => d.deadLettered), [], 'no dead letters');
});

// --- 4. tainted nodes

test('a Streamer on a node tainted NoSchedule runs there (a plain Pod stays Pending)', async () => {
  const ns = await withLicense('e2e-lc-taint');
  const node = `media-node-${randomBytes(3).toString('hex')}`;
  // A /24 of the sealed Pod range beside stream-node's.
  const streamCidr = await kubectl.ok(['get', 'node', 'stream-node', '-o', 'jsonpath={.spec.podCIDR}']);
  const subnet = `10.244.${(Number(streamCidr.split('.')[2]) + 128) % 256}.0/24`;
  await kubectl.ok(['create', '-f', '-'], { input: JSON.stringify(kwokNode(node, subnet, [{ key: 'dedicated', value: 'media', effect: 'NoSchedule' }])) });
  try {
    await waitFor(`node ${node} Ready`, async () => {
      const ready = await kubectl.ok(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return ready === 'True' ? true : undefined;
    });
    // The taint has teeth: a Pod without the toleration is not placed there.
    await kubectl.ok(['run', 'plain', '-n', ns, '--image=example.com/plain:1', '--restart=Never', `--overrides=${JSON.stringify({ apiVersion: 'v1', spec: { nodeSelector: { 'kubernetes.io/hostname': node } } })}`]);
    await apply(ns, { ...quickstartManifest, spec: { ...quickstartManifest.spec, nodeName: node } });
    const pod = await readyPod(ns);
    assert.is(pod.spec.nodeName, node);
    await condition(ns, 'StreamerReady', (c) => c.status === 'True');
    const plain = await kubectl.json<{ status: { phase: string; conditions?: { type: string; reason?: string; message?: string }[] } }>(['get', 'pod', 'plain', '-n', ns]);
    assert.is(plain.status.phase, 'Pending');
    assert.match(plain.status.conditions?.find((c) => c.type === 'PodScheduled')?.message ?? '', /untolerated taint/);
  } finally {
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=90s']);
    await kubectl(['delete', 'node', node, '--wait=true']);
  }
});

// --- 5. deletion while work is in flight

test('a Streamer deleted right after its creation: no child outlives it, no delivery ends in a dead letter', async () => {
  const ns = await withLicense('e2e-lc-gone');
  const name = 'gone';
  const from = sandbox.broker.deliveries.length;
  await apply(ns, { ...quickstartManifest, metadata: { name } });
  await new Promise((r) => setTimeout(r, 150));
  await kubectl.ok(['delete', 'streamer', name, '-n', ns, '--wait=true']);
  await settle();
  await waitFor('no child left', async () => {
    for (const kind of ['statefulset', 'service', 'configmap', 'secret', 'serviceaccount', 'role', 'rolebinding', 'pod']) {
      const left = await kubectl.ok(['get', kind, '-n', ns, '-l', 'app.kubernetes.io/managed-by=streamer-operator', '-o', 'name']);
      if (left.trim()) return undefined;
    }
    return true;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  // Nothing comes back: a few seconds later, still nothing.
  await new Promise((r) => setTimeout(r, 3_000));
  const left = await kubectl.ok(['get', 'statefulsets,configmaps,secrets', '-n', ns, '-l', 'app.kubernetes.io/managed-by=streamer-operator', '-o', 'name']);
  assert.is(left.trim(), '');
  const mine = sandbox.broker.deliveries.slice(from).filter((d) => d.name === name || d.name?.startsWith(`${name}-`));
  assert.ok(mine.length > 0, 'events were delivered');
  assert.equal(mine.filter((d) => d.deadLettered), [], 'no dead letters');
});

test('a namespace deleted while its Streamer is being created: every event ends, none in a dead letter, the namespace goes', async () => {
  const ns = await withLicense('e2e-lc-nsgone');
  const name = 'nsgone';
  const from = sandbox.broker.deliveries.length;
  await apply(ns, { ...quickstartManifest, metadata: { name } });
  await new Promise((r) => setTimeout(r, 150));
  await kubectl.ok(['delete', 'namespace', ns, '--wait=true', '--timeout=90s']);
  await settle();
  const mine = sandbox.broker.deliveries.slice(from).filter((d) => d.name === name || d.name?.startsWith(`${name}-`));
  assert.ok(mine.length > 0, 'events were delivered');
  assert.equal(mine.filter((d) => d.deadLettered), [], 'no dead letters');
  assert.is((await kubectl(['get', 'namespace', ns])).code, 1, 'the namespace is gone');
});

test.run();
