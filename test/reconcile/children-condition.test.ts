// ChildrenReady against the real API server: what the API server still refuses is reported on
// the Streamer with the child and the API server's words, once, and is not thrown (so the event
// is answered 2xx); fixing the Streamer converges. Also the convergence rules for Streamers the
// CRD accepts because they could work under upstream (env override, a volume named like ours),
// the longest name, and the escaped configExternalAuth.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespacePerTest } from '../cluster/namespaces.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { isTransient } from '../../lib/events/errors.ts';
import type { KubeClient } from '../../lib/kube/client.ts';
import { KubeApiError } from '../../lib/kube/errors.ts';
import { reconcileAndReport } from '../../lib/reconcile/children-condition.ts';
import { quickstartManifest, type StreamerManifest } from '../fixtures/streamers.ts';
import { applyStreamer, kubeFor, readStreamer } from './helpers.ts';

const cluster = await useCluster();
const kube = await kubeFor(cluster);
const test = suite('ChildrenReady (reconcile-children)');
const namespace = namespacePerTest(test, cluster);

type Condition = { type: string; status: string; reason: string; message: string; observedGeneration?: number };

const withSpec = (spec: Record<string, unknown>, name = 'simple'): StreamerManifest =>
  ({ ...quickstartManifest, metadata: { name }, spec: { ...quickstartManifest.spec, ...spec } as StreamerManifest['spec'] });

async function childrenReady(ns: string, name = 'simple'): Promise<Condition | undefined> {
  const streamer = await readStreamer(kube, ns, name);
  return streamer.status?.conditions?.find((c) => c.type === 'ChildrenReady');
}

async function warnings(ns: string): Promise<{ reason: string; note: string }[]> {
  const list = await cluster.kubectl.json<{ items: { type: string; reason: string; note: string; regarding?: { kind?: string } }[] }>(['get', 'events.events.k8s.io', '-n', ns]);
  return list.items.filter((e) => e.type === 'Warning' && e.regarding?.kind === 'Streamer');
}

/** A field of the StatefulSet's pod template, as JSON. */
const template = async <T,>(ns: string, path: string): Promise<T> =>
  JSON.parse(await cluster.kubectl.ok(['get', 'statefulset', 'simple-streamer', '-n', ns, '-o', `jsonpath={.spec.template.spec.${path}}`])) as T;

const reconcile = async (ns: string, name = 'simple', client: KubeClient = kube) =>
  reconcileAndReport({ kube: client, streamer: await readStreamer(kube, ns, name) });

test('a healthy Streamer: ChildrenReady True with its generation, no Warning, nothing written the second time', async () => {
  const ns = await namespace('cc-ok');
  await applyStreamer(cluster, ns, quickstartManifest);
  const first = await reconcile(ns);
  assert.is(first.kind, 'applied');
  const condition = await childrenReady(ns);
  assert.equal([condition?.status, condition?.reason, condition?.observedGeneration], ['True', 'ChildrenApplied', 1]);
  const counting = await kubeFor(cluster);
  const again = await reconcile(ns, 'simple', counting);
  assert.is(again.kind === 'applied' && again.written, false);
  assert.equal(await warnings(ns), []);
});

test('a child the API server refuses: False with kind, name and the API server\'s message; one Warning for three tries; fixing it converges', async () => {
  const ns = await namespace('cc-refused');
  await applyStreamer(cluster, ns, withSpec({ selectorLabels: { app: 'not a label value!' } }));
  const outcomes = [];
  for (let i = 0; i < 3; i++) outcomes.push(await reconcile(ns));
  for (const outcome of outcomes) assert.is(outcome.kind, 'refused', 'recorded, not thrown');
  const condition = await childrenReady(ns);
  assert.is(condition?.status, 'False');
  assert.is(condition?.reason, 'ApplyRefused');
  assert.match(condition?.message ?? '', /^the API server refused (Service simple-headless|StatefulSet simple-streamer) \(422 Invalid\): .*not a label value!/);
  assert.match(condition?.message ?? '', /spec\.selector/);
  assert.not.match(condition?.message ?? '', /PATCH|fieldManager/, 'the API server\'s words, not our request line');
  const warned = await warnings(ns);
  assert.is(warned.length, 1, JSON.stringify(warned));
  assert.is(warned[0]?.reason, 'ApplyRefused');
  assert.is(outcomes.filter((o) => o.kind === 'refused' && o.written).length, 1, 'the status is written once');

  await applyStreamer(cluster, ns, withSpec({ selectorLabels: { app: 'fixed' } }));
  const fixed = await reconcile(ns);
  assert.is(fixed.kind, 'applied');
  const after = await childrenReady(ns);
  assert.equal([after?.status, after?.reason, after?.observedGeneration], ['True', 'ChildrenApplied', 2]);
  assert.ok(await cluster.kubectl.json(['get', 'statefulset', 'simple-streamer', '-n', ns]));
});

test('a different failure after the first is news: a second Warning', async () => {
  const ns = await namespace('cc-news');
  await applyStreamer(cluster, ns, withSpec({ selectorLabels: { app: 'bad value 1' } }));
  await reconcile(ns);
  await applyStreamer(cluster, ns, withSpec({ selectorLabels: { app: 'bad value 2' } }));
  await reconcile(ns);
  await reconcile(ns);
  assert.is((await warnings(ns)).length, 2);
  assert.match((await childrenReady(ns))?.message ?? '', /bad value 2/);
});

test('a permanent error that names its object (permanent === true) is reported with its own message', async () => {
  const ns = await namespace('cc-conflict');
  await applyStreamer(cluster, ns, quickstartManifest);
  class ChildConflictError extends Error {
    readonly permanent = true;
    readonly kind = 'ConfigMap';
    override readonly name = 'simple-config';
  }
  // Stands for reconcile's ownership check (issue 11): the real API server answers every other request.
  const taken: KubeClient = {
    ...kube,
    apply: async (object, options) => {
      if (object.kind === 'ConfigMap') throw new ChildConflictError('ConfigMap simple-config exists and is not controlled by Streamer simple');
      return kube.apply(object, options);
    },
  };
  const outcome = await reconcile(ns, 'simple', taken);
  assert.is(outcome.kind, 'refused');
  const condition = await childrenReady(ns);
  assert.equal([condition?.status, condition?.reason], ['False', 'ChildConflict']);
  assert.match(condition?.message ?? '', /ConfigMap simple-config exists and is not controlled by Streamer simple/);
});

test('a transient failure is thrown for redelivery and not recorded', async () => {
  const ns = await namespace('cc-transient');
  await applyStreamer(cluster, ns, quickstartManifest);
  const busy: KubeClient = {
    ...kube,
    apply: async (object, options) => {
      if (object.kind === 'Service') throw new KubeApiError({ method: 'PATCH', path: '/x', statusCode: 503, reason: 'ServiceUnavailable', message: 'etcd is busy' });
      return kube.apply(object, options);
    },
  };
  const error = await reconcile(ns, 'simple', busy).then(() => undefined, (e: unknown) => e);
  assert.ok(isTransient(error));
  assert.is(await childrenReady(ns), undefined);
});

test('what only the API server sees is reported too: two volumes on one mountPath (StatefulSet), configExtra over 1 MiB in bytes (ConfigMap)', async () => {
  const ns = await namespace('cc-downstream');
  await applyStreamer(cluster, ns, withSpec({ volumes: [{ name: 'a', mountPath: '/data', emptyDir: {} }, { name: 'b', mountPath: '/data', emptyDir: {} }] }));
  await reconcile(ns);
  const mounts = await childrenReady(ns);
  assert.equal([mounts?.status, mounts?.reason], ['False', 'ApplyRefused']);
  assert.match(mounts?.message ?? '', /^the API server refused StatefulSet simple-streamer \(500 Unknown\): .*duplicate entries for key \[mountPath="\/data"\]/);
  // 350 000 three-byte characters pass the CRD's character count but not the ConfigMap's 1 MiB.
  await cluster.kubectl.ok(['apply', '--server-side', '--force-conflicts', '-n', ns, '-f', '-'], { input: JSON.stringify(withSpec({ configExtra: { 'a.conf': '€'.repeat(350_000) } })) });
  await reconcile(ns);
  const size = await childrenReady(ns);
  assert.equal([size?.status, size?.reason], ['False', 'ApplyRefused']);
  assert.match(size?.message ?? '', /^the API server refused ConfigMap simple-config \(422 Invalid\): .*(Too long|1048576)/);
  await cluster.kubectl.ok(['apply', '--server-side', '--force-conflicts', '-n', ns, '-f', '-'], { input: JSON.stringify(withSpec({ configExtra: { 'a.conf': 'small' } })) });
  assert.is((await reconcile(ns)).kind, 'applied');
  assert.equal((await childrenReady(ns))?.status, 'True');
});

test('spec.env naming an operator variable converges: one FLUSSONIC_HOSTNAME, the user\'s', async () => {
  const ns = await namespace('cc-env');
  await applyStreamer(cluster, ns, withSpec({ env: [{ name: 'FLUSSONIC_HOSTNAME', value: 'my-host' }, { name: 'X', value: '1' }, { name: 'X', value: '2' }] }));
  const outcome = await reconcile(ns);
  assert.is(outcome.kind, 'applied', JSON.stringify(outcome));
  const env = await template<{ name: string; value?: string }[]>(ns, 'containers[0].env');
  assert.equal(env.filter((e) => e.name === 'FLUSSONIC_HOSTNAME'), [{ name: 'FLUSSONIC_HOSTNAME', value: 'my-host' }]);
  assert.equal(env.filter((e) => e.name === 'X'), [{ name: 'X', value: '2' }]);
  assert.is((await reconcile(ns, 'simple', await kubeFor(cluster))).kind, 'applied');
});

test('a volume named like the operator\'s config volume converges: ours takes the next name', async () => {
  const ns = await namespace('cc-volume');
  await applyStreamer(cluster, ns, withSpec({ volumes: [{ name: 'streamer-operator-config', mountPath: '/data', emptyDir: {} }] }));
  assert.is((await reconcile(ns)).kind, 'applied');
  const volumes = await template<{ name: string; configMap?: { name: string } }[]>(ns, 'volumes');
  assert.equal(volumes.map((v) => [v.name, v.configMap?.name]), [['streamer-operator-config-2', 'simple-config'], ['streamer-operator-config', undefined]]);
});

test('the longest accepted name (43 characters) gets its Pod', async () => {
  const ns = await namespace('cc-long');
  const name = `s${'x'.repeat(42)}`;
  await applyStreamer(cluster, ns, withSpec({}, name));
  assert.is((await reconcile(ns, name)).kind, 'applied');
  await waitFor('the Pod', async () => (await kube.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: `${name}-streamer-0` })) ?? undefined, { timeoutMs: 60_000 });
});

test('configExternalAuth with URL syntax is escaped into <name>-license-storage; missing, it is reported; created, it converges', async () => {
  const ns = await namespace('cc-auth');
  await applyStreamer(cluster, ns, withSpec({
    configExternalUrl: 'http://config-server/streamers/$(FLUSSONIC_HOSTNAME)',
    configExternalAuth: { secretKeyRef: { name: 'config-auth', key: 'auth' } },
  }));
  await reconcile(ns);
  const missing = await childrenReady(ns);
  assert.equal([missing?.status, missing?.reason], ['False', 'ConfigExternalAuthUnavailable']);
  assert.match(missing?.message ?? '', /Secret config-auth has no key auth/);
  assert.ok(await kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: ns, name: 'simple-streamer' }), 'the other children are there');

  const raw = 'us@er:p@ss/w#rd:?';
  await cluster.kubectl.ok(['create', 'secret', 'generic', 'config-auth', '-n', ns, `--from-literal=auth=${raw}`]);
  await reconcile(ns);
  assert.equal((await childrenReady(ns))?.status, 'True');
  const stored = await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.config_external_auth}']);
  const escaped = Buffer.from(stored, 'base64').toString();
  assert.is(escaped, 'us%40er:p%40ss%2Fw%23rd%3A%3F');
  const url = new URL(`http://${escaped}@config-server/streamers/node`);
  assert.is(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`, raw);
  const env = await template<{ name: string; value?: string; valueFrom?: unknown }[]>(ns, 'containers[0].env');
  assert.equal(env.find((e) => e.name === 'FLUSSONIC_CONFIG_EXTERNAL')?.value, 'http://$(STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH)@config-server/streamers/$(FLUSSONIC_HOSTNAME)');
  assert.not.ok(JSON.stringify(env).includes('p@ss'), 'the value stays out of the Pod spec');
  // The generated edit_auth is still there, and an unchanged Streamer writes nothing.
  assert.ok(await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.edit_auth}']));
  const counting = await kubeFor(cluster);
  await reconcile(ns, 'simple', counting);
  assert.is(counting.stats().writes, 0);
  // A rotated value is picked up.
  await cluster.kubectl.ok(['patch', 'secret', 'config-auth', '-n', ns, '--type=merge', '-p', JSON.stringify({ stringData: { auth: 'new:v@lue' } })]);
  await reconcile(ns);
  const rotated = await cluster.kubectl.ok(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'jsonpath={.data.config_external_auth}']);
  assert.is(Buffer.from(rotated, 'base64').toString(), 'new:v%40lue');
});

test.run();
