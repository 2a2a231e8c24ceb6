// The namespaced install (knative-namespaced/) on real Knative Eventing v0.49.2 in a sealed
// cluster of its own, OIDC on: applied as a user applies it, its Broker, Triggers and sources
// become Ready through Knative's own controllers (the ApiServerSource reconciler checks the
// sources' rights, which only the RoleBindings in `streamers` grant); a Streamer created in
// `streamers` is delivered (ApiServerSource → Broker → Trigger → functions) and converges, while
// one in a namespace the install does not manage gets no event and no child. The ksvc stand-in
// (test/sandbox/knative-service.ts) serves the functions; there is no delivery proxy here.
// Needs root, or runs rootless (test/cluster/rootless.ts). namespaced.test.ts holds its RBAC matrix.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installServingCrds, repoRoot, startCluster } from '../cluster/index.ts';
import { installKnativeEventing } from '../cluster/knative-eventing.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { serveKnativeServices } from '../sandbox/knative-service.ts';
import { OPERATOR_NAMESPACE, waitForKnativeReady } from '../sandbox/real-knative.ts';

const MANAGED = 'streamers';
const log = (line: string) => process.stderr.write(`${line}\n`);
const cluster = await startCluster({ network: 'sealed', crdDirs: [join(repoRoot, 'crds')], nodes: ['stream-node'] });
const kubectl = cluster.kubectl;
const sealed = cluster.sealed!;
try {
  await installKnativeEventing({ kubectl, knativeBinDir: sealed.knativeBinDir, runDir: cluster.runDir, log });
  await installServingCrds(kubectl, cluster.runDir);
  // The webhook may still be warming its informers: a refusal is retried a while, as in the sandbox.
  await waitFor('kubectl apply -k knative-namespaced/', async () => {
    const result = await kubectl.run(['apply', '-k', join(repoRoot, 'knative-namespaced')], { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(result.stderr.trim());
    return true;
  }, { timeoutMs: 90_000, intervalMs: 2_000 });
  await serveKnativeServices(kubectl, OPERATOR_NAMESPACE, 1);
  await waitForKnativeReady(cluster);
} catch (error) {
  await cluster.stop();
  throw error;
}

const test = suite('the namespaced install on real Knative Eventing');
const logText = async () =>
  (await Promise.all(sealed.kubelet.logFiles(OPERATOR_NAMESPACE, 'streamer-operator').map((f) => readFile(f, 'utf8').catch(() => '')))).join('\n');

type Condition = { type: string; status: string; reason?: string };
const conditions = async (ns: string) =>
  (await kubectl.json<{ status?: { conditions?: Condition[] } }>(['get', 'streamer', 'simple', '-n', ns])).status?.conditions ?? [];

test('a Streamer in the managed namespace converges through the Broker; one elsewhere gets no event and no child', async () => {
  // Ready conditions come before the adapters watch: until a labelled ConfigMap's event in
  // `streamers` reaches the functions (sent again each round).
  let round = 0;
  await waitFor('an event from the managed namespace at the functions', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'data-path-probe', namespace: MANAGED, labels: { 'app.kubernetes.io/managed-by': 'streamer-operator' } }, data: { round: String(++round) } }) });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return (await logText()).includes(`ConfigMap ${MANAGED}/data-path-probe`) ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });

  const elsewhere = await cluster.createNamespace('unmanaged');
  for (const ns of [elsewhere, MANAGED]) {
    await kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test-license']);
    await kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  }
  const started = Date.now();
  let last: Condition[] = [];
  await waitFor('the managed Streamer StreamerReady and StreamerConfigSaved True', async () => {
    last = await conditions(MANAGED);
    const ok = (type: string) => last.some((c) => c.type === type && c.status === 'True');
    return ok('StreamerReady') && ok('StreamerConfigSaved') ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 }).catch((error: Error) => {
    throw new Error(`${error.message}; last seen ${JSON.stringify(last)}`);
  });
  log(`figure: namespaced install, Streamer applied → StreamerReady and StreamerConfigSaved True through real Knative: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // Delivered with Knative's OIDC tokens, verified by the functions (TokenReview: the install's
  // small ClusterRole), none refused.
  const lines = (await logText()).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l.outcome === 'oidc-delivery'), 'an OIDC delivery was verified');
  assert.is(lines.filter((l) => l.outcome === 'unauthenticated').length, 0);
  // The unmanaged Streamer was created first: by now its events would have been handled.
  assert.not.match(await logText(), new RegExp(`${elsewhere}/`), 'no event from the unmanaged namespace reached the functions');
  assert.is((await kubectl.run(['get', 'statefulset', 'simple-streamer', '-n', elsewhere])).code, 1, 'no child in the unmanaged namespace');
  assert.equal(await conditions(elsewhere), []);
});

test.after(async () => {
  await cluster.stop();
});

test.run();
