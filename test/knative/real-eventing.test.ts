// knative/ on real Knative Eventing v0.49.2 in a sealed cluster (its own, not the shared one):
// Broker, Triggers, ApiServerSources and PingSource become Ready through Knative's own
// controllers; its webhook judges our objects; its Broker delivers, retries and dead-letters;
// its ApiServerSource reconciler checks the sources' RBAC. Needs root (see test/cluster/netns.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { harnessNamespaces } from '../cluster/netns.ts';
import { isRunning } from '../cluster/processes.ts';
import { repoRoot, startCluster } from '../cluster/index.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { CHILD_KINDS } from '../reconcile/helpers.ts';
import { OPERATOR_NAMESPACE, readyCondition, startKnativeSandbox } from '../sandbox/real-knative.ts';
import { join } from 'node:path';

// A crashed run's leftovers: a namespace (and its resolv.conf dir) whose owning process is gone.
const deadPid = 4_194_000 + Math.floor(Math.random() * 300);
const leftover = `sop-${deadPid}-dead`;
if (!isRunning(deadPid)) {
  execFileSync('ip', ['netns', 'add', leftover]);
  mkdirSync(`/etc/netns/${leftover}`, { recursive: true });
}
const corednsDirExisted = existsSync('/etc/coredns');
const flussonicDirExisted = existsSync('/etc/flussonic');
const cluster = await startCluster({ network: 'sealed', crdDirs: [join(repoRoot, 'crds')], nodes: ['stream-node'] });
const sandbox = await startKnativeSandbox(cluster, { replicas: 2, log: (line) => process.stderr.write(`${line}\n`) }).catch(async (error) => {
  await cluster.stop();
  throw error;
});
const kubectl = cluster.kubectl;
const test = suite('knative/ on real Knative Eventing');
const AUDIENCE = `serving.knative.dev/service/${OPERATOR_NAMESPACE}/streamer-operator`;

type Conditioned = { kind: string; metadata: { name: string }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; subscriberUri?: string } };
const get = <T = Conditioned>(kind: string, name: string, namespace = OPERATOR_NAMESPACE) => kubectl.json<T>(['get', kind, name, '-n', namespace]);
const apply = (object: unknown) => kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(object) });
const logText = async (files: string[]) => (await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')))).join('\n');
const jsonLines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

test('the start swept a crashed run\'s namespace and its resolv.conf dir', () => {
  assert.not.ok(harnessNamespaces().includes(leftover));
  assert.not.ok(existsSync(`/etc/netns/${leftover}`));
});

test('the Broker, the three Triggers, the three ApiServerSources and the PingSource are Ready', async () => {
  const list = await kubectl.json<{ items: Conditioned[] }>(['get', 'brokers,triggers,apiserversources,pingsources', '-n', OPERATOR_NAMESPACE]);
  const ready = list.items.filter((o) => readyCondition(o)?.status === 'True').map((o) => `${o.kind}/${o.metadata.name}`).sort();
  assert.equal(ready, [
    'ApiServerSource/source-adapters', 'ApiServerSource/streamer-children', 'ApiServerSource/streamers', 'Broker/streamer-operator', 'PingSource/streamer-resync',
    'Trigger/probe-status', 'Trigger/push-config', 'Trigger/reconcile-children',
  ]);
});

test('Knative resolved each Trigger to the functions on their own path (the ksvc stand-in, two replicas)', async () => {
  for (const name of ['reconcile-children', 'push-config', 'probe-status']) {
    const trigger = await get('trigger', name);
    assert.is(trigger.status?.subscriberUri, `${sandbox.functionsUrl}/${name}`);
  }
  const pods = await kubectl.json<{ items: { status: { podIP?: string } }[] }>(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-l', 'serving.knative.dev/service=streamer-operator']);
  assert.is(pods.items.length, 2);
  assert.ok(pods.items.every((p) => p.status.podIP?.startsWith('10.244.')));
});

test('a Streamer created by kubectl gets its children, becomes StreamerReady, and an edit is saved: all through the real Broker', async () => {
  const ns = await cluster.createNamespace('real-kn');
  // Knative rolls the adapters when a namespace appears (namespaceSelector); events sent
  // before the new adapters watch are lost (docs/install.md), so wait as a user would have to.
  await sandbox.sourcesWatch(ns);
  await kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test-license']);
  const created = Date.now();
  await kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  await waitFor('all seven children', async () => {
    for (const [, kind, suffix] of CHILD_KINDS) if ((await kubectl.run(['get', kind.toLowerCase(), `simple-${suffix}`, '-n', ns])).code !== 0) return undefined;
    return true;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  // The functions log each event once it is handled (after the StatefulSet, the last child).
  const handled = await waitFor('reconcile-children to log the Streamer\'s event', async () => {
    const lines = jsonLines(await logText(sandbox.functionLogs()));
    return lines.find((l) => l.function === 'reconcile-children' && l.streamer === `${ns}/simple` && l.eventType === 'dev.knative.apiserver.resource.add');
  }, { timeoutMs: 30_000, intervalMs: 500 });
  assert.is(handled.status, 204);
  process.stderr.write(`figure: create → all seven children through real Knative: ${((Date.now() - created) / 1000).toFixed(2)} s\n`);

  // The StatefulSet's Pod runs the media-server double (image flussonic/flussonic), which read its
  // edit_auth from the Pod's env and its config from the mounted ConfigMap at start.
  type StreamerObject = { metadata: { generation: number }; status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] } };
  let last = '';
  const conditionTrue = (type: string) => waitFor(`${type}=True for generation`, async () => {
    const streamer = await kubectl.json<StreamerObject>(['get', 'streamer', 'simple', '-n', ns]);
    const found = streamer.status?.conditions?.find((c) => c.type === type);
    last = `generation ${streamer.metadata.generation}: ${JSON.stringify(streamer.status?.conditions)}`;
    return found?.status === 'True' && found.observedGeneration === streamer.metadata.generation ? found : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250 }).catch((error: Error) => {
    throw new Error(`${error.message}; last seen ${last}`);
  });
  await conditionTrue('StreamerReady');
  await conditionTrue('StreamerConfigSaved');
  const media = await waitFor('the media double\'s start line', async () => {
    const text = await logText(cluster.sealed?.kubelet.logFiles(ns, 'simple-streamer-') ?? []);
    return jsonLines(text).find((l) => l.outcome === 'media-double-listening');
  }, { timeoutMs: 10_000 });
  assert.ok(Number(media.configBytes) > 0, 'the double read the mounted conf.d at start');
  const edited = Date.now();
  await kubectl.ok(['patch', 'streamer', 'simple', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { configExtra: { 'extra.conf': 'stream demo {\n  input fake://fake;\n}\n' } } })]);
  await conditionTrue('StreamerConfigSaved');
  process.stderr.write(`figure: edit → StreamerConfigSaved through real Knative: ${((Date.now() - edited) / 1000).toFixed(2)} s\n`);
});

test('a Trigger whose subscriber keeps answering 503 is retried as its delivery says, then dead-lettered to /dead-letter', async () => {
  const ns = await cluster.createNamespace('real-kn-retry');
  const probe = `retry-probe-${ns.slice(-6)}`;
  // The operator image without a ServiceAccount token: every event gets 503 (cannot reach Kubernetes).
  const labels = { app: 'no-credentials' };
  await apply({ apiVersion: 'v1', kind: 'List', items: [
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'no-credentials', namespace: OPERATOR_NAMESPACE },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'user-container', image: 'streamer-operator', env: [{ name: 'PORT', value: '8080' }, { name: 'FUNCTION_TARGET', value: 'streamer-operator' }] }],
      } } },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'no-credentials', namespace: OPERATOR_NAMESPACE }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
    {
      apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', metadata: { name: probe, namespace: OPERATOR_NAMESPACE },
      spec: {
        broker: 'streamer-operator',
        filters: [{ all: [{ exact: { type: 'dev.knative.apiserver.ref.add' } }, { exact: { kind: 'ConfigMap' } }, { exact: { name: probe } }] }],
        subscriber: { ref: { apiVersion: 'v1', kind: 'Service', name: 'no-credentials' }, uri: '/reconcile-children' },
        delivery: {
          retry: 2, backoffPolicy: 'linear', backoffDelay: 'PT0.2S',
          deadLetterSink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'streamer-operator' }, uri: '/dead-letter', audience: AUDIENCE },
        },
      },
    },
  ] });
  await waitFor(`Trigger ${probe} Ready`, async () => (readyCondition(await get('trigger', probe))?.status === 'True' ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
  // The functions admit only the senders their EventPolicy lists (OIDC is on in the harness):
  // the probe Trigger is added to it as a user would add one.
  await kubectl.ok(['patch', 'eventpolicy', 'streamer-operator', '-n', OPERATOR_NAMESPACE, '--type=json', '-p',
    JSON.stringify([{ op: 'add', path: '/spec/from/-', value: { ref: { apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', name: probe, namespace: OPERATOR_NAMESPACE } } }])]);
  await waitFor('the EventPolicy to admit the probe Trigger', async () => {
    const policy = await get<{ status?: { from?: string[] } }>('eventpolicy', 'streamer-operator');
    return policy.status?.from?.includes(`system:serviceaccount:${OPERATOR_NAMESPACE}:${probe}-oidc-eventing.knative.dev-trigger`) ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  const failing = () => cluster.sealed?.kubelet.logFiles(OPERATOR_NAMESPACE, 'no-credentials-') ?? [];
  await waitFor('the no-credentials Pod running', async () => (failing().length ? true : undefined), { timeoutMs: 30_000 });
  await waitFor('the no-credentials Pod listening', async () => ((await logText(failing())).includes('Serving function') ? true : undefined), { timeoutMs: 30_000 }).catch(() => undefined);
  // A managed ConfigMap's ref.add reaches the Broker through the streamer-children ApiServerSource.
  await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: probe, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'streamer-operator' } }, data: {} });
  const deadLetter = await waitFor('the dead letter', async () => {
    const lines = jsonLines(await logText(sandbox.functionLogs()));
    return lines.find((l) => l.outcome === 'dead-letter' && String(l.subject ?? '').endsWith(`/configmaps/${probe}`));
  }, { timeoutMs: 60_000, intervalMs: 500 });
  assert.is(deadLetter.errorCode, '503');
  assert.ok(String(deadLetter.errorDest).includes('no-credentials'), String(deadLetter.errorDest));
  // The two Pods' lines reach their files through separate pipes: let the last attempt's land.
  const attempts = async () => jsonLines(await logText(failing())).filter((l) => l.outcome === 'startup-failed').length;
  await waitFor('three attempts logged', async () => ((await attempts()) >= 3 ? true : undefined), { timeoutMs: 10_000 }).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.is(await attempts(), 3, 'one delivery and two retries');
});

test('an ApiServerSource whose Role lacks `watch` is not Ready; adding the verb makes it Ready', async () => {
  const ns = await cluster.createNamespace('real-kn-rbac');
  const role = (verbs: string[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'cm-reader', namespace: ns }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs }] });
  await apply({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cm-source', namespace: ns } },
    role(['get', 'list']),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'cm-reader', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'cm-source', namespace: ns }] },
    {
      apiVersion: 'sources.knative.dev/v1', kind: 'ApiServerSource', metadata: { name: 'cms', namespace: ns },
      spec: { mode: 'Reference', serviceAccountName: 'cm-source', resources: [{ apiVersion: 'v1', kind: 'ConfigMap' }], sink: { uri: `${sandbox.functionsUrl}/dead-letter` } },
    },
  ] });
  const permissions = async () => (await get('apiserversource', 'cms', ns)).status?.conditions?.find((c) => c.type === 'SufficientPermissions');
  const denied = await waitFor('SufficientPermissions=False', async () => ((await permissions())?.status === 'False' ? await permissions() : undefined), { timeoutMs: 60_000, intervalMs: 500 });
  assert.match(String(denied?.message), /watch/);
  assert.is.not(readyCondition(await get('apiserversource', 'cms', ns))?.status, 'True');
  await apply(role(['get', 'list', 'watch']));
  await waitFor('the source Ready once the Role has watch', async () => (readyCondition(await get('apiserversource', 'cms', ns))?.status === 'True' ? true : undefined), { timeoutMs: 90_000, intervalMs: 1_000 });
});

test('the real webhook accepts every object of knative/ and refuses an invalid Trigger', async () => {
  const dryRun = await kubectl.run(['apply', '--dry-run=server', '-k', join(repoRoot, 'knative')]);
  assert.is(dryRun.code, 0, dryRun.stderr);
  const invalid = await kubectl.run(['create', '-f', '-'], { input: JSON.stringify({
    apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', metadata: { name: 'no-broker', namespace: OPERATOR_NAMESPACE },
    spec: { subscriber: { uri: 'http://example.invalid/' } },
  }) });
  assert.is.not(invalid.code, 0);
  assert.match(invalid.stderr, /admission webhook "validation\.webhook\.eventing\.knative\.dev" denied the request/);
  assert.match(invalid.stderr, /spec\.broker/);
});

test('after stop(): no process, namespace, interface, nft table or mount is left', async () => {
  const pids = [...cluster.pids];
  const netns = cluster.netns ?? '';
  const podPids = harnessNamespaces()
    .filter((n) => n.startsWith(netns))
    .flatMap((n) => execFileSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number));
  assert.ok(podPids.length > 10, 'the sealed namespace held the cluster');
  await cluster.stop();
  assert.equal([...pids, ...podPids].filter(isRunning), []);
  assert.equal(harnessNamespaces().filter((n) => n.startsWith(netns)), []);
  assert.not.ok(existsSync(`/etc/netns/${netns}`));
  assert.not.ok(existsSync(cluster.runDir));
  assert.not.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(netns), 'no netns mount left');
  assert.not.ok(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes('kbr0'), 'no bridge on the host');
  assert.not.ok(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes('kube-proxy'), 'no kube-proxy table on the host');
  assert.is(existsSync('/etc/coredns'), corednsDirExisted, 'the CoreDNS mount point made for its Pod is gone');
  assert.is(existsSync('/etc/flussonic'), flussonicDirExisted, 'the media server mount point made for its Pod is gone');
});

test.run();
