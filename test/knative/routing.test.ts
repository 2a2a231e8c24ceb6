// The Triggers in knative/ route every event the real sources emit to exactly the functions
// that need it. The events come from the real ApiServerSource receive adapter (knative.dev/
// eventing v0.49.2), configured from the ApiServerSource manifests in knative/ exactly as the
// source controller would, watching a real API server while this test creates, changes and
// deletes a Streamer, each child kind and a Pod. Its sink is a loopback server standing in for
// the Broker's ingress; each collected event is then matched against the Triggers read from
// knative/ as kustomize renders them, by Knative's own filter code (test/knative/trigger-filter.ts).
//
// The PingSource is not run (its adapter is Knative's shared mt-ping); its event is built from
// the PingSource manifest with the attributes Knative documents (knative.md §4).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { startAdapter, type RunningAdapter } from '../events/adapter.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { eventAttributes, startTriggerRouter, subscriberPath } from './trigger-filter.ts';
import { adapterOptionsFor, byKind, knativeDir, kustomize } from './manifests.ts';

const cluster = await useCluster();
const kubectl = cluster.kubectl;

const FUNCTIONS = ['reconcile-children', 'push-config', 'probe-status'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const [rc, pc, ps] = FUNCTIONS;

/**
 * What each event needs, by "<type without dev.knative.> <kind>": the routing table of
 * docs/install.md. Streamer deletes need nothing (the garbage collector removes the children);
 * a child's own add needs nothing (the operator just created it); the StatefulSet and the Pod
 * drive readiness.
 */
const CHILDREN = ['StatefulSet', 'ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'Role', 'RoleBinding'] as const;
const NEEDS: Record<string, readonly FunctionName[]> = {
  'apiserver.resource.add Streamer': [rc, pc, ps],
  'apiserver.resource.update Streamer': [rc, pc, ps],
  'apiserver.resource.delete Streamer': [],
  ...Object.fromEntries(
    CHILDREN.flatMap((kind) => [
      [`apiserver.ref.add ${kind}`, kind === 'StatefulSet' ? [ps] : []],
      [`apiserver.ref.update ${kind}`, kind === 'StatefulSet' ? [rc, ps] : kind === 'Secret' ? [rc, pc] : [rc]],
      [`apiserver.ref.delete ${kind}`, kind === 'StatefulSet' ? [rc, ps] : [rc]],
    ]),
  ),
  'apiserver.ref.add Pod': [rc, pc, ps],
  'apiserver.ref.update Pod': [pc, ps],
  'apiserver.ref.delete Pod': [ps],
  'sources.ping': [rc, pc, ps],
};

type Collected = { attributes: Record<string, string>; body: string };
const received: Collected[] = [];
const classOf = (a: Record<string, string>) => `${a.type?.replace(/^dev\.knative\./, '')}${a.kind ? ` ${a.kind}` : ''}`;

const sink = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      const parsed = HTTP.toEvent({ headers: req.headers, body });
      for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
        received.push({ attributes: eventAttributes(event as unknown as Record<string, unknown>), body });
      }
      res.statusCode = 202; // what the Broker's ingress answers
    } catch {
      res.statusCode = 400;
    }
    res.end();
  });
});

const manifests = await kustomize(kubectl, knativeDir);
const triggers = byKind(manifests, 'Trigger');
const router = await startTriggerRouter(triggers);
const adapters: RunningAdapter[] = [];
let ns = '';
const SECRET_VALUE = 'routing-test-S3cret';

/** The functions the Triggers send an event with these attributes to. */
async function route(attributes: Record<string, string>): Promise<FunctionName[]> {
  const [names = []] = await router.route([attributes]);
  return triggers
    .filter((trigger) => names.includes(trigger.metadata.name))
    .map((trigger) => subscriberPath(trigger).slice(1) as FunctionName)
    .sort();
}

const mine = () => received.filter((r) => r.attributes.namespace === ns);

function eventFor(type: string, kind: string, name: string) {
  return waitFor(`${type} ${kind} ${name}`, async () =>
    mine().find((r) => r.attributes.type === `dev.knative.${type}` && r.attributes.kind === kind && r.attributes.name === name),
  { timeoutMs: 30_000, intervalMs: 50 });
}

const json = (value: unknown) => JSON.stringify(value);
const labelled = { 'app.kubernetes.io/managed-by': 'streamer-operator', 'app.kubernetes.io/instance': 'cam1' };

function child(kind: string, name: string): Record<string, unknown> {
  const metadata = { name, namespace: ns, labels: labelled };
  switch (kind) {
    case 'StatefulSet':
      return {
        apiVersion: 'apps/v1', kind, metadata,
        spec: {
          replicas: 0, serviceName: 'cam1-headless',
          selector: { matchLabels: { app: 'routing-cam1' } },
          template: { metadata: { labels: { app: 'routing-cam1' } }, spec: { containers: [{ name: 'c', image: 'flussonic/flussonic:v26.01-5' }] } },
        },
      };
    case 'ConfigMap':
      return { apiVersion: 'v1', kind, metadata, data: { a: '1' } };
    case 'Secret':
      return { apiVersion: 'v1', kind, metadata, data: { edit_auth: Buffer.from(SECRET_VALUE).toString('base64') } };
    case 'Service':
      return { apiVersion: 'v1', kind, metadata, spec: { clusterIP: 'None', selector: { app: 'routing-cam1' }, ports: [{ name: 'http', port: 80 }] } };
    case 'ServiceAccount':
      return { apiVersion: 'v1', kind, metadata };
    case 'Role':
      return { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata, rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['cam1-license-storage'], verbs: ['get'] }] };
    case 'RoleBinding':
      return {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cam1-role' },
        subjects: [{ kind: 'ServiceAccount', name: 'cam1-sa', namespace: ns }],
      };
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata, spec: { nodeName: 'stream-node', containers: [{ name: 'flussonic', image: 'flussonic/flussonic:v26.01-5' }] } };
    default:
      throw new Error(`no fixture for ${kind}`);
  }
}

const CHILD_NAMES: Record<string, string> = {
  StatefulSet: 'cam1-streamer', ConfigMap: 'cam1-config', Secret: 'cam1-license-storage', Service: 'cam1-headless',
  ServiceAccount: 'cam1-sa', Role: 'cam1-role', RoleBinding: 'cam1-rb', Pod: 'cam1-streamer-0',
};

// ---

const routing = suite('Trigger routing of real ApiServerSource events');

routing.before(async () => {
  ns = await cluster.createNamespace('routing');
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;
  for (const source of byKind(manifests, 'ApiServerSource')) {
    adapters.push(await startAdapter({ ...adapterOptionsFor(source), binDir: cluster.binDir, kubeconfig: cluster.kubeconfig, sink: url }));
  }
});

routing.after(async () => {
  for (const adapter of adapters) await adapter.stop();
  router.stop();
  sink.closeAllConnections();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
  if (ns) await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

routing('Knative\'s webhook validation admits the three Triggers kustomize renders', async () => {
  assert.equal(triggers.map((t) => subscriberPath(t)).sort(), FUNCTIONS.map((f) => `/${f}`).sort());
  assert.equal(await router.invalid(), {});
});

routing('a Streamer\'s life: add, update and delete arrive from the streamers source', async () => {
  await kubectl.ok(['apply', '-f', '-'], { input: json({ ...quickstartManifest, metadata: { name: 'cam1', namespace: ns } }) });
  await eventFor('apiserver.resource.add', 'Streamer', 'cam1');
  await kubectl.ok(['label', 'streamer', 'cam1', '-n', ns, 'touched=yes']);
  await eventFor('apiserver.resource.update', 'Streamer', 'cam1');
});

routing('an unlabelled object produces no event (the selector is applied by the API server)', async () => {
  const unrelated = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cam1-unrelated', namespace: ns }, data: { a: '1' } };
  await kubectl.ok(['apply', '-f', '-'], { input: json(unrelated) });
  await kubectl.ok(['delete', 'configmap', 'cam1-unrelated', '-n', ns]);
  // The labelled ConfigMap below travels the same watch stream, so once its event is in,
  // any event for the unlabelled one would be too.
  await kubectl.ok(['apply', '-f', '-'], { input: json(child('ConfigMap', 'cam1-config')) });
  await eventFor('apiserver.ref.add', 'ConfigMap', 'cam1-config');
  assert.is(mine().filter((r) => r.attributes.name === 'cam1-unrelated').length, 0);
});

routing('each child kind and the Pod: add, update and delete arrive from the children source', async () => {
  for (const kind of [...CHILDREN, 'Pod'] as const) {
    const name = CHILD_NAMES[kind]!;
    const resource = kind.toLowerCase();
    await kubectl.ok(['apply', '-f', '-'], { input: json(child(kind, name)) });
    await eventFor('apiserver.ref.add', kind, name);
    await kubectl.ok(['annotate', resource, name, '-n', ns, 'routing-test/touched=yes']);
    await eventFor('apiserver.ref.update', kind, name);
    await kubectl.ok(['delete', resource, name, '-n', ns, '--grace-period=0', '--force', '--wait=true']);
    await eventFor('apiserver.ref.delete', kind, name);
  }
  await kubectl.ok(['delete', 'streamer', 'cam1', '-n', ns]);
  await eventFor('apiserver.resource.delete', 'Streamer', 'cam1');
});

routing('Reference-mode events carry no Secret data', () => {
  const secretEvents = mine().filter((r) => r.attributes.kind === 'Secret');
  assert.ok(secretEvents.length >= 3);
  const encoded = Buffer.from(SECRET_VALUE).toString('base64');
  for (const event of secretEvents) {
    assert.not.ok(event.body.includes(encoded));
    assert.not.ok(event.body.includes(SECRET_VALUE));
    assert.equal(Object.keys(JSON.parse(event.body) as object).sort(), ['apiVersion', 'kind', 'name', 'namespace']);
  }
});

routing('every ApiServerSource event class of the table was seen, and nothing else', () => {
  const seen = new Set(mine().map((r) => classOf(r.attributes)));
  const expected = Object.keys(NEEDS).filter((c) => c.startsWith('apiserver.'));
  assert.equal([...seen].sort(), expected.sort());
});

routing('each real event goes to exactly the functions that need it', async () => {
  const wrong: string[] = [];
  for (const { attributes } of mine()) {
    const cls = classOf(attributes);
    const want = [...(NEEDS[cls] ?? [])].sort();
    const got = await route(attributes);
    if (json(got) !== json(want)) wrong.push(`${cls} ${attributes.name}: routed to [${got}] but needs [${want}]`);
  }
  assert.equal(wrong, []);
});

routing('the resync tick goes to all three functions', async () => {
  const [ping] = byKind(manifests, 'PingSource');
  const spec = ping!.spec as { contentType: string };
  const attributes = {
    specversion: '1.0',
    id: randomUUID(),
    type: 'dev.knative.sources.ping',
    source: `/apis/v1/namespaces/${ping!.metadata.namespace}/pingsources/${ping!.metadata.name}`,
    time: new Date().toISOString(),
    datacontenttype: spec.contentType,
  };
  assert.equal(await route(attributes), [...NEEDS['sources.ping']!].sort());
});

routing('an adapter Deployment\'s update (the source-adapters source) goes to all three functions, its add to none', async () => {
  const attributes = (type: string) => ({ specversion: '1.0', id: '1', source: 's', type: `dev.knative.apiserver.${type}`, kind: 'Deployment', name: 'apiserversource-streamers-x', namespace: 'streamer-operator-system' });
  assert.equal(await route(attributes('ref.update')), [...FUNCTIONS].sort());
  assert.equal(await route(attributes('ref.add')), []);
  assert.equal(await route(attributes('ref.delete')), []);
});

routing('events of other shapes reach no function', async () => {
  // What a Resource-mode children source or a Reference-mode Streamer source would send.
  assert.equal(await route({ specversion: '1.0', id: '1', source: 's', type: 'dev.knative.apiserver.resource.update', kind: 'ConfigMap' }), []);
  assert.equal(await route({ specversion: '1.0', id: '1', source: 's', type: 'dev.knative.apiserver.ref.update', kind: 'Streamer' }), []);
  assert.equal(await route({ specversion: '1.0', id: '1', source: 's', type: 'com.example.other' }), []);
});

routing.run();
