// The ServiceAccounts and RBAC of knative/, applied for real, then asked what each identity may
// do (`kubectl auth can-i --as=system:serviceaccount:...`, i.e. SelfSubjectAccessReviews under
// impersonation): what its component needs is allowed, the neighbouring things are refused.
// Then the functions' own code runs as streamer-operator against the API server, which proves
// the grants are enough for what the code really sends (including RBAC's escalation check on
// the Role the operator creates). Everything applied here is deleted afterwards.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import type { KubeTransport } from '../../lib/kube/client.ts';
import { makeStreamerFunction } from '../../lib/runtime/streamer-function.ts';
import type { FunctionDefinition } from '../../lib/runtime/register.ts';
import { definition as reconcileChildren } from '../../functions/reconcile-children/definition.ts';
import { definition as probeStatus } from '../../functions/probe-status/definition.ts';
import { definition as pushConfig } from '../../functions/push-config/definition.ts';
import { assertMatrix as assertCanI, can as canI, type Row } from './can-i.ts';
import { byKind, installEventPolicyCrd, knativeDir, kustomize, named, OPERATOR_NAMESPACE, sourceSpec, type Manifest } from './manifests.ts';

const cluster = await useCluster();
const kubectl = cluster.kubectl;
const manifests = await kustomize(kubectl, knativeDir);
const RBAC_KINDS = ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
const rbacObjects = manifests.filter((m) => RBAC_KINDS.includes(m.kind));
const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

const sa = (name: string) => `system:serviceaccount:${OPERATOR_NAMESPACE}:${name}`;
const OPERATOR = sa('streamer-operator');
const STREAMERS_SOURCE = sa('streamers-source');
const CHILDREN_SOURCE = sa('streamer-children-source');
const ADAPTERS_SOURCE = sa('source-adapters-source');

let ns = ''; // a user namespace holding a Streamer

const can = (user: string, verb: string, resource: string, where: string, subresource?: string) => canI(kubectl, user, verb, resource, where, subresource);
const assertMatrix = (user: string, allowed: Row[], refused: Row[]) => assertCanI(kubectl, ns, user, allowed, refused);

// ---

const matrix = suite('RBAC matrix (kubectl auth can-i)');

matrix.before(async () => {
  await waitFor(`namespace ${OPERATOR_NAMESPACE} not terminating`, async () => {
    const phase = await kubectl(['get', 'namespace', OPERATOR_NAMESPACE, '-o', 'jsonpath={.status.phase}']);
    return phase.code !== 0 || phase.stdout === 'Active' ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  await installEventPolicyCrd(kubectl);
  await kubectl.ok(['apply', '-f', '-'], { input: list(rbacObjects) });
  ns = await cluster.createNamespace('rbac');
});

matrix('streamer-operator: what the functions need', async () => {
  const children = ['statefulsets.apps', 'services', 'configmaps', 'serviceaccounts', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io'];
  await assertMatrix(
    OPERATOR,
    [
      ['get', 'streamers.media.flussonic.com', 'user'],
      ['list', 'streamers.media.flussonic.com', 'all'],
      ['patch', 'streamers.media.flussonic.com', 'user', 'status'],
      ['update', 'streamers.media.flussonic.com', 'user', 'finalizers'],
      ...children.flatMap((r) => (['get', 'create', 'patch'] as const).map((v): Row => [v, r, 'user'])),
      // The resync lists the children it compares in memory (not ConfigMaps or Secrets).
      ...children.filter((r) => r !== 'configmaps').map((r): Row => ['list', r, 'all']),
      ['list', 'pods', 'all'],
      ['get', 'secrets', 'user'],
      ['create', 'secrets', 'user'],
      ['patch', 'secrets', 'user'],
      ['update', 'secrets', 'user'],
      ['get', 'pods', 'user'],
      ['patch', 'pods', 'user'],
      ['create', 'events.events.k8s.io', 'user'],
      ['list', 'events.events.k8s.io', 'user'],
      // Recreating a child whose immutable fields must change; unsticking a rollout.
      ...['statefulsets.apps', 'services', 'rolebindings.rbac.authorization.k8s.io', 'pods'].map((r): Row => ['delete', r, 'user']),
      ['get', 'namespaces', 'all'],
      // Authenticated delivery: a TokenReview per new sender token.
      ['create', 'tokenreviews.authentication.k8s.io', 'all'],
    ],
    [
      // Streamers belong to their users.
      ['create', 'streamers.media.flussonic.com', 'user'],
      ['update', 'streamers.media.flussonic.com', 'user'],
      ['patch', 'streamers.media.flussonic.com', 'user'],
      ['delete', 'streamers.media.flussonic.com', 'user'],
      ['deletecollection', 'streamers.media.flussonic.com', 'user'],
      ['watch', 'streamers.media.flussonic.com', 'all'],
      // Never deleted by hand: the garbage collector follows the owner references, and the
      // license-storage Secret holds the media server's own data.
      ...['secrets', 'configmaps', 'serviceaccounts', 'roles.rbac.authorization.k8s.io'].map((r): Row => ['delete', r, 'user']),
      ...[...children, 'secrets', 'pods'].map((r): Row => ['deletecollection', r, 'user']),
      ['delete', 'namespaces', 'all'],
      // Secrets can be read by name only, never enumerated, here or elsewhere.
      ['list', 'secrets', 'user'],
      ['watch', 'secrets', 'user'],
      ['list', 'secrets', 'other'],
      ['list', 'secrets', 'all'],
      ['list', 'configmaps', 'user'],
      // No way to grow its own rights.
      ['escalate', 'roles.rbac.authorization.k8s.io', 'user'],
      ['bind', 'roles.rbac.authorization.k8s.io', 'user'],
      ['bind', 'clusterroles.rbac.authorization.k8s.io', 'all'],
      ['create', 'clusterroles.rbac.authorization.k8s.io', 'all'],
      ['create', 'clusterrolebindings.rbac.authorization.k8s.io', 'all'],
      ['impersonate', 'serviceaccounts', 'user'],
      ['create', 'serviceaccounts', 'user', 'token'],
      // No workloads of its own, no way into the media server's Pod.
      ['create', 'pods', 'user'],
      ['create', 'pods', 'user', 'exec'],
      ['update', 'pods', 'user'],
      ['update', 'statefulsets.apps', 'user'],
      ['get', 'nodes', 'all'],
      ['create', 'events', 'user'],
      // The event sources' adapter Deployments are read in the operator's namespace only.
      ['get', 'deployments.apps', 'user'],
      ['list', 'deployments.apps', 'all'],
    ],
  );
});

matrix('streamer-operator reads Deployments (the sources\' adapters) in its own namespace by get only', async () => {
  assert.ok(await can(OPERATOR, 'get', 'deployments.apps', OPERATOR_NAMESPACE));
  assert.not.ok(await can(OPERATOR, 'list', 'deployments.apps', OPERATOR_NAMESPACE));
  assert.not.ok(await can(OPERATOR, 'patch', 'deployments.apps', OPERATOR_NAMESPACE));
  assert.not.ok(await can(OPERATOR, 'get', 'deployments.apps', 'kube-system'));
});

matrix('source-adapters-source: reads Deployments in the operator\'s namespace, nothing else', async () => {
  for (const verb of ['get', 'list', 'watch']) assert.ok(await can(ADAPTERS_SOURCE, verb, 'deployments.apps', OPERATOR_NAMESPACE), verb);
  for (const verb of ['create', 'patch', 'update', 'delete']) assert.not.ok(await can(ADAPTERS_SOURCE, verb, 'deployments.apps', OPERATOR_NAMESPACE), verb);
  assert.not.ok(await can(ADAPTERS_SOURCE, 'list', 'deployments.apps', 'all'));
  assert.not.ok(await can(ADAPTERS_SOURCE, 'get', 'deployments.apps', ns));
  assert.not.ok(await can(ADAPTERS_SOURCE, 'get', 'secrets', OPERATOR_NAMESPACE));
  assert.not.ok(await can(ADAPTERS_SOURCE, 'get', 'streamers.media.flussonic.com', ns));
});

matrix('streamer-operator reads its own EventPolicy by name, and no other', async () => {
  assert.ok(await can(OPERATOR, 'get', 'eventpolicies.eventing.knative.dev/streamer-operator', OPERATOR_NAMESPACE));
  assert.not.ok(await can(OPERATOR, 'get', 'eventpolicies.eventing.knative.dev/other', OPERATOR_NAMESPACE));
  assert.not.ok(await can(OPERATOR, 'list', 'eventpolicies.eventing.knative.dev', OPERATOR_NAMESPACE));
  assert.not.ok(await can(OPERATOR, 'get', 'eventpolicies.eventing.knative.dev/streamer-operator', ns));
  assert.not.ok(await can(OPERATOR, 'update', 'eventpolicies.eventing.knative.dev/streamer-operator', OPERATOR_NAMESPACE));
});

matrix('streamers-source: reads Streamers, nothing else', async () => {
  await assertMatrix(
    STREAMERS_SOURCE,
    (['get', 'list', 'watch'] as const).map((v): Row => [v, 'streamers.media.flussonic.com', 'all']),
    [
      ['patch', 'streamers.media.flussonic.com', 'user'],
      ['patch', 'streamers.media.flussonic.com', 'user', 'status'],
      ['delete', 'streamers.media.flussonic.com', 'user'],
      ['get', 'secrets', 'user'],
      ['get', 'secrets', 'other'],
      ['get', 'configmaps', 'user'],
      ['list', 'pods', 'all'],
      ['create', 'events.events.k8s.io', 'user'],
    ],
  );
});

matrix('streamer-children-source: reads the watched kinds, writes nothing', async () => {
  const kinds = ['statefulsets.apps', 'configmaps', 'secrets', 'services', 'serviceaccounts', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io', 'pods'];
  await assertMatrix(
    CHILDREN_SOURCE,
    kinds.flatMap((r) => (['get', 'list', 'watch'] as const).map((v): Row => [v, r, 'all'])),
    [
      ...kinds.flatMap((r) => (['create', 'patch', 'update', 'delete'] as const).map((v): Row => [v, r, 'user'])),
      ['get', 'streamers.media.flussonic.com', 'user'],
      ['create', 'pods', 'user', 'exec'],
      ['escalate', 'roles.rbac.authorization.k8s.io', 'user'],
      ['bind', 'roles.rbac.authorization.k8s.io', 'user'],
      ['get', 'nodes', 'all'],
    ],
  );
});

matrix('the namespace\'s default ServiceAccount gets nothing', async () => {
  await assertMatrix(sa('default'), [], [
    ['get', 'streamers.media.flussonic.com', 'user'],
    ['get', 'secrets', 'user'],
    ['list', 'pods', 'all'],
  ]);
});

matrix('each ApiServerSource passes the source controller\'s access check (get, list, watch per resource)', async () => {
  // eventing apiserversource.go runAccessCheck: a SubjectAccessReview per verb, per resource
  // (group + guessed plural), per watched namespace; namespaceSelector {} watches them all, and
  // no namespaceSelector only the source's own namespace.
  const plural = (kind: string) => `${kind.toLowerCase()}s`;
  const missing: string[] = [];
  for (const source of byKind(manifests, 'ApiServerSource')) {
    const spec = sourceSpec(source);
    const watched = (source.spec as { namespaceSelector?: object }).namespaceSelector ? ['all', ns] : [source.metadata.namespace!];
    await Promise.all(spec.resources.map(async (resource) => {
      const group = resource.apiVersion.includes('/') ? resource.apiVersion.split('/')[0] : '';
      const name = group ? `${plural(resource.kind)}.${group}` : plural(resource.kind);
      for (const verb of ['get', 'list', 'watch']) {
        for (const where of watched) {
          if (!(await can(sa(spec.serviceAccountName!), verb, name, where))) missing.push(`${source.metadata.name}: ${verb} ${name} in ${where}`);
        }
      }
    }));
  }
  assert.equal(missing, []);
});

matrix.run();

// ---

const operator = suite('the functions run as streamer-operator');

type Captured = { status: number; lines: Record<string, unknown>[] };

/** The admin transport, impersonating `user` (the admin may impersonate). */
async function transportAs(user: string): Promise<KubeTransport> {
  const admin = await transportFromKubeconfig(cluster.kubeconfig);
  return { ...admin, headers: async () => ({ ...(await admin.headers()), 'impersonate-user': user }) };
}

/** POSTs a Resource-mode Streamer update event to `definition`'s real handler, as `user`. */
async function deliver(definition: FunctionDefinition, user: string): Promise<Captured> {
  const lines: Record<string, unknown>[] = [];
  const handler = makeStreamerFunction({ ...definition, transport: await transportAs(user), log: (line) => lines.push(line) });
  const streamer = await kubectl.json<Record<string, unknown>>(['get', 'streamer', 'cam1', '-n', ns]);
  const res = { statusCode: 0, setHeader: () => undefined, end: () => undefined };
  await handler(
    {
      method: 'POST',
      path: '/',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': `rbac-${definition.name}-${Date.now()}`,
        'ce-source': 'https://127.0.0.1',
        'ce-type': 'dev.knative.apiserver.resource.update',
        'ce-subject': `/apis/media.flussonic.com/v1alpha1/namespaces/${ns}/streamers/cam1`,
        'ce-kind': 'Streamer',
        'ce-name': 'cam1',
        'ce-namespace': ns,
        'ce-apiversion': 'media.flussonic.com/v1alpha1',
      },
      body: streamer,
    },
    res,
  );
  return { status: res.statusCode, lines };
}

const forbidden = (captured: Captured) => /forbidden|\b403\b/i.test(JSON.stringify(captured.lines));

operator.before(async () => {
  await kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test-license']);
  await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ ...quickstartManifest, metadata: { name: 'cam1', namespace: ns } }) });
});

operator('the check has teeth: reconcile-children as streamers-source is refused', async () => {
  const captured = await deliver(reconcileChildren, STREAMERS_SOURCE);
  assert.is.not(captured.status, 204);
  assert.ok(forbidden(captured), JSON.stringify(captured.lines));
});

operator('reconcile-children creates all seven children (Role escalation check included) and an Event', async () => {
  const captured = await deliver(reconcileChildren, OPERATOR);
  assert.is(captured.status, 204, JSON.stringify(captured.lines));
  for (const [kind, name] of [
    ['statefulset', 'cam1-streamer'], ['service', 'cam1-headless'], ['configmap', 'cam1-config'], ['secret', 'cam1-license-storage'],
    ['serviceaccount', 'cam1-sa'], ['role', 'cam1-role'], ['rolebinding', 'cam1-rb'],
  ] as const) {
    assert.is((await kubectl(['get', kind, name, '-n', ns])).code, 0, `${kind} ${name}`);
  }
  const events = await kubectl.json<{ items: { reportingInstance?: string; reason?: string }[] }>(['get', 'events.events.k8s.io', '-n', ns]);
  assert.ok(events.items.some((e) => e.reportingInstance === 'reconcile-children'), 'an Event by reconcile-children');
  // A second pass finds nothing to do and is allowed all its reads.
  const again = await deliver(reconcileChildren, OPERATOR);
  assert.is(again.status, 204, JSON.stringify(again.lines));
});

operator('probe-status writes the Streamer\'s status', async () => {
  const captured = await deliver(probeStatus, OPERATOR);
  assert.is(captured.status, 204, JSON.stringify(captured.lines));
  const streamer = await kubectl.json<{ status?: { conditions?: { type: string }[] } }>(['get', 'streamer', 'cam1', '-n', ns]);
  assert.ok(streamer.status?.conditions?.some((c) => c.type === 'StreamerReady'), JSON.stringify(streamer.status));
});

operator('push-config is never refused by the API server', async () => {
  // No media server answers here, so its outcome depends on the Pod; what matters is that no
  // request it made was forbidden.
  const captured = await deliver(pushConfig, OPERATOR);
  assert.not.ok(forbidden(captured), JSON.stringify(captured.lines));
});

operator('RBAC refuses a Role granting more than the operator holds (list Secrets)', async () => {
  const create = (verbs: string) =>
    kubectl(['create', 'role', 'probe-escalation', '-n', ns, `--verb=${verbs}`, '--resource=secrets', '--dry-run=server', `--as=${OPERATOR}`]);
  const refused = await create('list');
  assert.is.not(refused.code, 0);
  assert.match(refused.stderr, /escalat|not currently held|forbidden/i);
  const allowed = await create('get,update,patch');
  assert.is(allowed.code, 0, allowed.stderr);
});

operator('without update on Secrets, the media server\'s Role could not be created (why update is granted)', async () => {
  const role = named(manifests, 'ClusterRole', 'streamer-operator') as Manifest & { rules: { resources: string[]; verbs: string[] }[] };
  const trimmed = {
    ...role,
    metadata: { name: 'streamer-operator-rbac-test-no-update' },
    rules: role.rules.map((r) => (r.resources.includes('secrets') ? { ...r, verbs: r.verbs.filter((v) => v !== 'update') } : r)),
  };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
    metadata: { name: 'streamer-operator-rbac-test-no-update' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: trimmed.metadata.name },
    subjects: [{ kind: 'ServiceAccount', name: 'no-update', namespace: ns }],
  };
  await kubectl.ok(['create', 'serviceaccount', 'no-update', '-n', ns]);
  await kubectl.ok(['apply', '-f', '-'], { input: list([trimmed, binding]) });
  try {
    const result = await kubectl([
      'create', 'role', 'cam2-role', '-n', ns, '--verb=get,update,patch', '--resource=secrets', '--resource-name=cam2-license-storage',
      '--dry-run=server', `--as=system:serviceaccount:${ns}:no-update`,
    ]);
    assert.is.not(result.code, 0);
    assert.match(result.stderr, /escalat|not currently held|forbidden/i);
  } finally {
    await kubectl(['delete', '-f', '-', '--ignore-not-found'], { input: list([trimmed, binding]) });
  }
});

operator.after(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  await kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], { input: list(rbacObjects) });
});

operator.run();
