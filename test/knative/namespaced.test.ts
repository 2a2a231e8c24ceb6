// The namespaced install (knative-namespaced/, the kustomize component it uses) applied for real:
// its RBAC asked with `kubectl auth can-i` as each identity — everything in the managed
// namespace `streamers`, nothing in another one, no cluster-wide list — then a resync tick of
// reconcile-children run as streamer-operator against the API server: with STREAMER_NAMESPACES
// it lists per namespace and succeeds; listing cluster-wide, as the default install does, is
// refused. Everything applied here is deleted afterwards.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../cluster/index.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { pingEvent } from '../events/fixtures.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { makeStreamerFunction } from '../../lib/runtime/streamer-function.ts';
import { definition as reconcileChildren } from '../../functions/reconcile-children/definition.ts';
import { assertMatrix, type Row } from './can-i.ts';
import { byKind, installEventPolicyCrd, kustomize, OPERATOR_NAMESPACE, sourceSpec } from './manifests.ts';

const cluster = await useCluster();
const kubectl = cluster.kubectl;
const manifests = await kustomize(kubectl, join(repoRoot, 'knative-namespaced'));
const MANAGED = 'streamers';
const RBAC_KINDS = ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
const rbacObjects = manifests.filter((m) => RBAC_KINDS.includes(m.kind));
const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const sa = (name: string) => `system:serviceaccount:${OPERATOR_NAMESPACE}:${name}`;
const OPERATOR = sa('streamer-operator');
let elsewhere = ''; // a namespace the install does not manage

const install = suite('namespaced install');

install.before(async () => {
  await waitFor('namespaces not terminating', async () => {
    for (const ns of [OPERATOR_NAMESPACE, MANAGED]) {
      const phase = await kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.status.phase}']);
      if (phase.code === 0 && phase.stdout !== 'Active') return undefined;
    }
    return true;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  await installEventPolicyCrd(kubectl);
  await kubectl.ok(['apply', '-f', '-'], { input: list(rbacObjects) });
  elsewhere = await cluster.createNamespace('unmanaged');
});

install('the kustomization keeps no ClusterRoleBinding but the cluster-scoped one; the Streamer and children sources select the label, source-adapters keeps to its own namespace', () => {
  assert.equal(byKind(manifests, 'ClusterRoleBinding').map((b) => b.metadata.name), ['streamer-operator-cluster-scoped']);
  const sources = byKind(manifests, 'ApiServerSource');
  assert.equal(sources.map((s) => s.metadata.name).sort(), ['source-adapters', 'streamer-children', 'streamers']);
  for (const source of sources) {
    assert.equal(sourceSpec(source).namespaceSelector, source.metadata.name === 'source-adapters' ? undefined : { matchLabels: { 'media.flussonic.com/streamer-operator': 'enabled' } }, source.metadata.name);
  }
  const ksvc = manifests.find((m) => m.kind === 'Service' && m.apiVersion.startsWith('serving.knative.dev')) as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
  assert.is(ksvc.spec.template.spec.containers[0]!.env.find((e) => e.name === 'STREAMER_NAMESPACES')?.value, MANAGED);
});

install('streamer-operator: everything it needs in the managed namespace, nothing elsewhere', async () => {
  const children = ['statefulsets.apps', 'services', 'configmaps', 'serviceaccounts', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io'];
  await assertMatrix(kubectl, MANAGED, OPERATOR,
    [
      ['get', 'streamers.media.flussonic.com', 'user'],
      ['list', 'streamers.media.flussonic.com', 'user'],
      ['patch', 'streamers.media.flussonic.com', 'user', 'status'],
      ...children.flatMap((r) => (['get', 'create', 'patch'] as const).map((v): Row => [v, r, 'user'])),
      ['get', 'secrets', 'user'], ['create', 'secrets', 'user'], ['patch', 'secrets', 'user'],
      ['get', 'pods', 'user'], ['patch', 'pods', 'user'], ['list', 'pods', 'user'],
      ['create', 'events.events.k8s.io', 'user'],
      ['get', 'namespaces', 'all'],
      ['create', 'tokenreviews.authentication.k8s.io', 'all'],
    ],
    [
      // Cluster-wide lists (the default install's resync) are gone.
      ['list', 'streamers.media.flussonic.com', 'all'],
      ['list', 'pods', 'all'],
      ['list', 'statefulsets.apps', 'all'],
      ['list', 'secrets', 'all'],
      ['list', 'secrets', 'user'],
      // Another namespace: nothing.
      ['get', 'streamers.media.flussonic.com', 'other'],
      ['get', 'secrets', 'other'],
      ['create', 'secrets', 'other'],
      ['patch', 'pods', 'other'],
      ['get', 'pods', 'other'],
      ['create', 'statefulsets.apps', 'other'],
      ['create', 'events.events.k8s.io', 'other'],
      ['create', 'clusterroles.rbac.authorization.k8s.io', 'all'],
    ]);
  // And the unmanaged namespace made by this test, not only kube-system.
  await assertMatrix(kubectl, elsewhere, OPERATOR, [], [['get', 'secrets', 'user'], ['get', 'streamers.media.flussonic.com', 'user'], ['patch', 'pods', 'user']]);
});

install('the sources read their kinds in the managed namespace only (the source controller\'s access check there passes)', async () => {
  const kinds = ['statefulsets.apps', 'configmaps', 'secrets', 'services', 'serviceaccounts', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io', 'pods'];
  await assertMatrix(kubectl, MANAGED, sa('streamer-children-source'),
    kinds.flatMap((r) => (['get', 'list', 'watch'] as const).map((v): Row => [v, r, 'user'])),
    [...kinds.map((r): Row => ['list', r, 'all']), ['get', 'secrets', 'other'], ['watch', 'secrets', 'other'], ['patch', 'secrets', 'user']]);
  await assertMatrix(kubectl, MANAGED, sa('streamers-source'),
    (['get', 'list', 'watch'] as const).map((v): Row => [v, 'streamers.media.flussonic.com', 'user']),
    [['list', 'streamers.media.flussonic.com', 'all'], ['watch', 'streamers.media.flussonic.com', 'other'], ['get', 'secrets', 'user']]);
});

install('a resync tick as streamer-operator: lists per STREAMER_NAMESPACES and succeeds; cluster-wide it is refused', async () => {
  await kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', MANAGED, '--from-literal=license_key=test-license']);
  await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ ...quickstartManifest, metadata: { name: 'cam1', namespace: MANAGED } }) });
  const admin = await transportFromKubeconfig(cluster.kubeconfig);
  const transport = { ...admin, headers: async () => ({ ...(await admin.headers()), 'impersonate-user': OPERATOR }) };
  const tick = async (namespaces?: string[]) => {
    const lines: Record<string, unknown>[] = [];
    const handler = makeStreamerFunction({ ...reconcileChildren, transport, log: (line) => lines.push(line), ...(namespaces ? { resync: { namespaces } } : {}) });
    const res = { statusCode: 0, setHeader: () => undefined, end: () => undefined };
    const ping = pingEvent();
    await handler({ method: 'POST', path: '/', headers: ping.headers, body: JSON.parse(String(ping.body)) as unknown }, res);
    return { status: res.statusCode, lines };
  };
  const scoped = await tick([MANAGED]);
  assert.is(scoped.status, 204, JSON.stringify(scoped.lines));
  assert.is((await kubectl(['get', 'statefulset', 'cam1-streamer', '-n', MANAGED])).code, 0, 'the tick created the children in the managed namespace');
  const wide = await tick();
  assert.is.not(wide.status, 204);
  assert.match(JSON.stringify(wide.lines), /forbidden|\b403\b/i);
});

install.after(async () => {
  await kubectl(['delete', 'namespace', MANAGED, elsewhere, '--wait=false']);
  await kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], { input: list(rbacObjects.filter((o) => !(o.kind === 'Namespace' && o.metadata.name === MANAGED))) });
});

install.run();
