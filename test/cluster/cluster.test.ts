// The local control plane behaves like a real cluster: these are the API
// server, controller manager, scheduler and kwok behaviours the operator
// relies on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useCluster } from './shared.ts';
import { waitFor } from './wait.ts';
import { startAdapter } from '../events/adapter.ts';

const cluster = await useCluster();
const test = suite('local control plane');

test('a CRD with a structural schema rejects an invalid object with the API server message', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.test.example.com' },
    spec: {
      group: 'test.example.com',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
      scope: 'Namespaced',
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: {
          type: 'object',
          properties: { spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1, maximum: 10 } } } },
        } },
      }],
    },
  };
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(crd) });
  await cluster.kubectl.ok(['wait', '--for=condition=Established', 'crd/widgets.test.example.com', '--timeout=30s']);
  const ns = await cluster.createNamespace('crd');
  const widget = (size: number) =>
    JSON.stringify({ apiVersion: 'test.example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: ns }, spec: { size } });
  const bad = await cluster.kubectl(['apply', '-f', '-'], { input: widget(70) });
  assert.is.not(bad.code, 0);
  assert.match(bad.stderr, /spec\.size: Invalid value: 70: spec\.size in body should be less than or equal to 10/);
  const good = await cluster.kubectl(['apply', '-f', '-'], { input: widget(3) });
  assert.is(good.code, 0, good.stderr);
});

test('a one-replica StatefulSet gets a Ready Pod with an IP in 127.100.0.0/16', async () => {
  const ns = await cluster.createNamespace('sts');
  await cluster.kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(statefulSet('web')) });
  const sts = await waitFor('readyReplicas 1', async () => {
    const s = await cluster.kubectl.json<{ status?: { readyReplicas?: number } }>(['get', 'statefulset', 'web', '-n', ns]);
    return s.status?.readyReplicas === 1 ? s : undefined;
  }, { timeoutMs: 60_000 });
  assert.is(sts.status?.readyReplicas, 1);
  const pod = await cluster.kubectl.json<{ status: { podIP: string; phase: string } }>(['get', 'pod', 'web-0', '-n', ns]);
  assert.is(pod.status.phase, 'Running');
  assert.match(pod.status.podIP, /^127\.100\.\d{1,3}\.\d{1,3}$/);
});

test('deleting an owner garbage-collects the objects that name it as controller', async () => {
  const ns = await cluster.createNamespace('gc');
  await cluster.kubectl.ok(['create', 'configmap', 'owner', '-n', ns]);
  const owner = await cluster.kubectl.json<{ metadata: { uid: string } }>(['get', 'configmap', 'owner', '-n', ns]);
  const child = {
    apiVersion: 'v1', kind: 'Secret',
    metadata: {
      name: 'child', namespace: ns,
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
  };
  await cluster.kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(child) });
  await cluster.kubectl.ok(['delete', 'configmap', 'owner', '-n', ns]);
  const gone = await waitFor('child collected', async () => {
    const r = await cluster.kubectl(['get', 'secret', 'child', '-n', ns]);
    return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
  }, { timeoutMs: 60_000 });
  assert.ok(gone);
});

test('RBAC is enforced: a Role naming one Secret grants it and refuses another', async () => {
  const ns = await cluster.createNamespace('rbac');
  await cluster.kubectl.ok(['create', 'serviceaccount', 'reader', '-n', ns]);
  await cluster.kubectl.ok(['create', 'role', 'one-secret', '-n', ns, '--verb=get', '--resource=secrets', '--resource-name=allowed']);
  await cluster.kubectl.ok(['create', 'rolebinding', 'one-secret', '-n', ns, '--role=one-secret', `--serviceaccount=${ns}:reader`]);
  const as = `--as=system:serviceaccount:${ns}:reader`;
  const allowed = await cluster.kubectl(['auth', 'can-i', 'get', 'secret/allowed', '-n', ns, as]);
  const refused = await cluster.kubectl(['auth', 'can-i', 'get', 'secret/other', '-n', ns, as]);
  const elsewhere = await cluster.kubectl(['auth', 'can-i', 'get', 'secret/allowed', '-n', 'default', as]);
  assert.is(allowed.stdout.trim(), 'yes');
  assert.is(refused.stdout.trim(), 'no');
  assert.is(elsewhere.stdout.trim(), 'no');
});

test('the real ApiServerSource adapter delivers resource.add with the created object', async () => {
  const ns = await cluster.createNamespace('adapter');
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const port = (sink.address() as AddressInfo).port;
  const adapter = await startAdapter({
    binDir: cluster.binDir,
    kubeconfig: cluster.kubeconfig,
    sink: `http://127.0.0.1:${port}/`,
    namespaces: [ns],
    resources: [{ apiVersion: 'v1', kind: 'ConfigMap' }],
    mode: 'Resource',
    name: 'cluster-test',
  });
  try {
    // The adapter emits nothing for objects that exist when it starts, so create after it is up.
    const event = await waitFor('resource.add for the ConfigMap', async () => {
      await cluster.kubectl(['create', 'configmap', 'hello', '-n', ns, '--from-literal=greeting=hi']);
      return received.find((r) => r.headers['ce-type'] === 'dev.knative.apiserver.resource.add' && r.headers['ce-name'] === 'hello');
    }, { timeoutMs: 60_000, intervalMs: 500 });
    assert.is(event.headers['ce-kind'], 'ConfigMap');
    assert.is(event.headers['ce-namespace'], ns);
    const object = JSON.parse(event.body);
    assert.is(object.kind, 'ConfigMap');
    assert.is(object.metadata.name, 'hello');
    assert.equal(object.data, { greeting: 'hi' });
  } finally {
    await adapter.stop();
    sink.close();
  }
});

test.run();

function statefulSet(name: string) {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: 1, serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { nodeName: 'stream-node', containers: [{ name: 'c', image: 'example.invalid/none:1' }] },
      },
    },
  };
}
