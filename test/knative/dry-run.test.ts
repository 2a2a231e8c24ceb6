// `kubectl apply --dry-run=server -k knative/` against a real API server with the Knative CRDs
// (eventing 1.22, serving 1.23) installed: every object passes the CRD schemas, with strict field
// validation. Knative's admission webhooks do not run here (knative.md §8); the rules only they
// enforce are covered by manifests.test.ts and trigger-filter.ts.
//
// Server-side dry-run cannot create a namespace and then objects in it in the same request, so
// the operator namespace is created for real first (and removed after, if this file made it).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { installEventPolicyCrd, knativeBaseDir, knativeDir, OPERATOR_NAMESPACE } from './manifests.ts';

const cluster = await useCluster();
const kubectl = cluster.kubectl;

type Applied = { items: { kind: string; metadata: { name: string }; spec?: Record<string, unknown> }[] };

const dryRun = suite('kubectl apply --dry-run=server -k');
let createdNamespace = false;

dryRun.before(async () => {
  await installEventPolicyCrd(kubectl);
  // A namespace left Terminating by an earlier run must be gone before it can be created again.
  await waitFor(`namespace ${OPERATOR_NAMESPACE} not terminating`, async () => {
    const phase = await kubectl(['get', 'namespace', OPERATOR_NAMESPACE, '-o', 'jsonpath={.status.phase}']);
    return phase.code !== 0 || phase.stdout === 'Active' ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  const exists = await kubectl(['get', 'namespace', OPERATOR_NAMESPACE]);
  if (exists.code !== 0) {
    await kubectl.ok(['create', 'namespace', OPERATOR_NAMESPACE, '--save-config']);
    createdNamespace = true;
  }
});

dryRun.after(async () => {
  if (createdNamespace) await kubectl.ok(['delete', 'namespace', OPERATOR_NAMESPACE, '--wait=false']);
});

dryRun('knative/ (the whole operator) passes', async () => {
  const result = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-k', knativeDir, '-o', 'json']);
  assert.is(result.code, 0, result.stderr);
  // Objects the test cluster created without kubectl apply (the CRDs from crds/) draw kubectl's
  // "missing last-applied-configuration" notice; any other warning (unknown or deprecated
  // fields, admission policy warnings) fails.
  const warnings = result.stderr.split('\n').filter((l) => /warning/i.test(l) && !/last-applied-configuration annotation/.test(l));
  assert.equal(warnings, []);
  const applied = JSON.parse(result.stdout) as Applied;
  const kinds = applied.items.map((i) => i.kind);
  for (const kind of ['CustomResourceDefinition', 'ValidatingAdmissionPolicy', 'Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Broker', 'Trigger', 'ApiServerSource', 'PingSource', 'Service']) {
    assert.ok(kinds.includes(kind), `${kind} applied`);
  }
});

dryRun('knative/base/ (everything but the function, for kn func deploy) passes', async () => {
  const result = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-k', knativeBaseDir, '-o', 'json']);
  assert.is(result.code, 0, result.stderr);
  const kinds = (JSON.parse(result.stdout) as Applied).items.map((i) => i.kind);
  assert.not.ok(kinds.includes('Service') && kinds.includes('Route'));
  assert.ok(kinds.includes('Trigger'));
});

dryRun('the API server keeps namespaceSelector: {} (all namespaces) on the streamers and children sources, and none on source-adapters (its own namespace)', async () => {
  const result = await kubectl(['apply', '--dry-run=server', '-k', knativeBaseDir, '-o', 'json']);
  const sources = (JSON.parse(result.stdout) as Applied).items.filter((i) => i.kind === 'ApiServerSource');
  assert.equal(sources.map((s) => s.metadata.name).sort(), ['source-adapters', 'streamer-children', 'streamers']);
  for (const source of sources) assert.equal(source.spec?.namespaceSelector, source.metadata.name === 'source-adapters' ? undefined : {}, source.metadata.name);
});

dryRun('the check has teeth: a misspelled Knative Service field is refused', async () => {
  const broken = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'streamer-operator', namespace: OPERATOR_NAMESPACE },
    spec: { template: { spec: { containerConcurency: 10, containers: [{ image: 'x' }] } } },
  };
  const result = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: JSON.stringify(broken) });
  assert.is.not(result.code, 0);
  assert.match(result.stderr, /containerConcurency/);
});

dryRun.run();
