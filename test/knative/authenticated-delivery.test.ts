// Authenticated, bounded delivery on real Knative Eventing v0.49.2 (sealed cluster, its own):
// with config-features authentication-oidc enabled (test/cluster/knative-eventing.ts), Knative's
// Trigger controller gives each Trigger an OIDC ServiceAccount, its EventPolicy controller
// resolves our EventPolicy to those subjects, and the Broker's filter sends each delivery with a
// token for the functions' audience, which the functions verify (lib/runtime/event-auth.ts).
// A sender that is not one of our Triggers — a Pod of another namespace, run by the process
// runner, sending no token, its own mounted ServiceAccount token, or a token of its ServiceAccount
// for the functions' audience (a projected volume, which any Pod may ask for) — is refused with
// 401 before anything of the event is read. Needs root (see test/cluster/netns.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, startCluster } from '../cluster/index.ts';
import { waitFor } from '../cluster/wait.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';
import { OPERATOR_NAMESPACE, startKnativeSandbox } from '../sandbox/real-knative.ts';

// The forger Pods' image: test/knative/send-event.ts POSTing once to its first argument, with
// the token read from the file its fourth argument names, if any.
const SENDER_IMAGE = 'streamer-operator-test/send-event';
const sender = {
  command: 'sh',
  args: ['-c', `exec "${process.execPath}" "${join(repoRoot, 'test', 'knative', 'send-event.ts')}" "$1" "$2" "$3" \${4:+"$(cat "$4")"}`, 'sh'],
};
const cluster = await startCluster({
  network: 'sealed', crdDirs: [join(repoRoot, 'crds')], nodes: ['stream-node'],
  images: (image) => (image.startsWith(`${SENDER_IMAGE}:`) ? sender : undefined),
});
const sandbox = await startKnativeSandbox(cluster, { replicas: 1, log: (line) => process.stderr.write(`${line}\n`) }).catch(async (error) => {
  await cluster.stop();
  throw error;
});
const kubectl = cluster.kubectl;
const sealed = cluster.sealed!;
const AUDIENCE = `serving.knative.dev/service/${OPERATOR_NAMESPACE}/streamer-operator`;
const TRIGGERS = ['reconcile-children', 'push-config', 'probe-status'];
const triggerSubject = (name: string) => `system:serviceaccount:${OPERATOR_NAMESPACE}:${name}-oidc-eventing.knative.dev-trigger`;

const logLines = async () =>
  (await Promise.all(sandbox.functionLogs().map((f) => readFile(f, 'utf8').catch(() => ''))))
    .join('\n').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

/** The functions' Service by its ClusterIP (a process started in the network has no cluster DNS). */
async function functionsAddress(): Promise<string> {
  const host = new URL(sandbox.functionsUrl).hostname.split('.')[0]!;
  const ip = await kubectl.ok(['get', 'service', host, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.spec.clusterIP}']);
  return `http://${ip.trim()}`;
}

let sent = 0;
/** POSTs a ping event from inside the cluster network (test/knative/send-event.ts). */
async function send(url: string, { bytes = 100, token }: { bytes?: number; token?: string } = {}): Promise<{ id: string; status: number; answer: string }> {
  const id = `forged-${++sent}-${Date.now()}`;
  const proc = sealed.run(`send-event-${sent}`, process.execPath, [join(repoRoot, 'test', 'knative', 'send-event.ts'), url, id, String(bytes), ...(token ? [token] : [])]);
  await proc.exited;
  const line = (await readFile(proc.logFile, 'utf8')).split('\n').find((l) => l.startsWith('{"status"'));
  if (!line) throw new Error(`send-event printed no status: ${await proc.tail()}`);
  return { id, ...(JSON.parse(line) as { status: number; answer: string }) };
}

const test = suite('authenticated delivery on real Knative Eventing');

test('each Trigger has its OIDC identity, and the EventPolicy admits exactly those three', async () => {
  for (const name of TRIGGERS) {
    const trigger = await kubectl.json<{ status?: { auth?: { serviceAccountName?: string }; subscriberAudience?: string } }>(['get', 'trigger', name, '-n', OPERATOR_NAMESPACE]);
    assert.is(trigger.status?.auth?.serviceAccountName, `${name}-oidc-eventing.knative.dev-trigger`);
    assert.is(trigger.status?.subscriberAudience, AUDIENCE);
  }
  const policy = await waitFor('the EventPolicy to resolve its senders', async () => {
    const p = await kubectl.json<{ status?: { from?: string[]; conditions?: { type: string; status: string }[] } }>(['get', 'eventpolicy', 'streamer-operator', '-n', OPERATOR_NAMESPACE]);
    return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1_000 });
  assert.equal([...(policy.status?.from ?? [])].sort(), TRIGGERS.map(triggerSubject).sort());
});

test('Trigger deliveries carry tokens the functions accept (the sandbox\'s data-path event was handled), none refused', async () => {
  const lines = await logLines();
  assert.ok(lines.some((l) => l.function === 'reconcile-children' && l.status === 204), 'reconcile-children handled an event');
  assert.is(lines.filter((l) => l.outcome === 'unauthenticated').length, 0, JSON.stringify(lines.filter((l) => l.outcome === 'unauthenticated')));
  assert.ok(lines.some((l) => l.outcome === 'oidc-delivery' && l.audience === AUDIENCE));
});

/**
 * Runs a forger Pod in `ns` (restartPolicy Never) that POSTs one ping to `url` with the token of
 * `tokenFile` (a path inside the Pod), and returns what it got.
 */
async function forge(ns: string, name: string, url: string, tokenFile?: string, volumes: unknown[] = [], volumeMounts: unknown[] = []) {
  const id = `forged-${name}-${Date.now()}`;
  await kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { restartPolicy: 'Never', volumes, containers: [{ name: 'send', image: `${SENDER_IMAGE}:test`, args: [url, id, '100', ...(tokenFile ? [tokenFile] : [])], volumeMounts }] },
  }) });
  const line = await waitFor(`the forger Pod ${ns}/${name} to report`, async () => {
    const texts = await Promise.all(sealed.kubelet.logFiles(ns, name).map((f) => readFile(f, 'utf8').catch(() => '')));
    return texts.join('\n').split('\n').find((l) => l.startsWith('{"status"'));
  }, { timeoutMs: 60_000, intervalMs: 500 });
  return { id, ...(JSON.parse(line) as { status: number; answer: string }) };
}

test('a forged ping from a Pod of another namespace: 401 with no token, with its own token, with a token for the functions\' audience; no handler ran', async () => {
  const ns = await cluster.createNamespace('intruder');
  const url = `${await functionsAddress()}/reconcile-children`;
  const bare = await forge(ns, 'forger-bare', url);
  assert.is(bare.status, 401, bare.answer);
  assert.match(bare.answer, /NoToken/);
  // The token every Pod has mounted (audience: the API server).
  const mounted = await forge(ns, 'forger-mounted', url, '/var/run/secrets/kubernetes.io/serviceaccount/token');
  assert.is(mounted.status, 401, mounted.answer);
  // A token of its own ServiceAccount for the functions' audience, from a projected volume.
  const projected = await forge(ns, 'forger-audience', url, '/var/run/secrets/tokens/functions',
    [{ name: 'functions-token', projected: { sources: [{ serviceAccountToken: { audience: AUDIENCE, expirationSeconds: 3600, path: 'functions' } }] } }],
    [{ name: 'functions-token', mountPath: '/var/run/secrets/tokens' }]);
  assert.is(projected.status, 401, projected.answer);
  assert.match(projected.answer, /SubjectNotAllowed/);
  const lines = await logLines();
  for (const { id } of [bare, mounted, projected]) {
    const about = lines.filter((l) => l.eventId === id);
    assert.equal(about.map((l) => l.function), ['request-guard'], JSON.stringify(about));
  }
});

test('a body over the limit, from an admitted sender: 413', async () => {
  const token = (await kubectl.ok(['create', 'token', 'reconcile-children-oidc-eventing.knative.dev-trigger', '-n', OPERATOR_NAMESPACE, `--audience=${AUDIENCE}`])).trim();
  const url = `${await functionsAddress()}/reconcile-children`;
  const big = await send(url, { bytes: 3 * 1024 * 1024, token });
  assert.is(big.status, 413, big.answer);
  const small = await send(url, { bytes: 100, token });
  assert.is(small.status, 204, small.answer);
});

test('a Secret that is not a child causes no delivery; a child\'s change does', async () => {
  const ns = await cluster.createNamespace('not-ours');
  await kubectl.ok(['create', 'secret', 'generic', 'not-ours', '-n', ns, '--from-literal=k=v1']);
  await kubectl.ok(['patch', 'secret', 'not-ours', '-n', ns, '-p', '{"stringData":{"k":"v2"}}']);
  // Afterwards, a labelled ConfigMap's change: once it is logged, the Secret's would have been.
  const labelled = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ours', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'streamer-operator' } }, data: { k: 'v1' } };
  await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(labelled) });
  await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify({ ...labelled, data: { k: 'v2' } }) });
  await waitFor('the labelled ConfigMap\'s event at the functions', async () => {
    const text = JSON.stringify(await logLines());
    return text.includes(`ConfigMap ${ns}/ours`) ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  assert.not.match(JSON.stringify(await logLines()), new RegExp(`${ns}/not-ours`));
});

type Condition = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number };
type StreamerObject = { metadata: { generation: number }; status?: { conditions?: Condition[] } };

/** Until the Streamer's `type` condition satisfies `ok`; the time it took. */
async function condition(ns: string, type: string, ok: (c: Condition, s: StreamerObject) => boolean, timeoutMs = 90_000) {
  const started = Date.now();
  let last = '';
  const found = await waitFor(`${type} as expected`, async () => {
    const streamer = await kubectl.json<StreamerObject>(['get', 'streamer', 'simple', '-n', ns]);
    const c = streamer.status?.conditions?.find((x) => x.type === type);
    last = JSON.stringify(streamer.status?.conditions);
    return c && ok(c, streamer) ? c : undefined;
  }, { timeoutMs, intervalMs: 250 }).catch(async (error: Error) => {
    const about = (await logLines()).filter((l) => JSON.stringify(l).includes(ns) || l.function === 'request-guard').slice(-8);
    throw new Error(`${error.message}; last seen ${last}; the functions' last lines about it: ${JSON.stringify(about)}`);
  });
  return { condition: found, seconds: (Date.now() - started) / 1000 };
}

const editAuth = async (ns: string) =>
  (await kubectl.json<{ data: { edit_auth: string } }>(['get', 'secret', 'simple-license-storage', '-n', ns])).data.edit_auth;

test('a hand-changed edit_auth turns StreamerConfigSaved False within seconds (the children source sees the Secret)', async () => {
  const ns = await cluster.createNamespace('password');
  await sandbox.sourcesWatch(ns); // the adapters roll for a new namespace (see real-eventing.test.ts)
  await kubectl.ok(['create', 'secret', 'generic', 'flussonic-license', '-n', ns, '--from-literal=license_key=test-license']);
  await kubectl.ok(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(quickstartManifest) });
  await condition(ns, 'StreamerConfigSaved', (c, s) => c.status === 'True' && c.observedGeneration === s.metadata.generation);
  await kubectl.ok(['patch', 'secret', 'simple-license-storage', '-n', ns, '--type=merge', '-p', JSON.stringify({ data: { edit_auth: Buffer.from('admin:changed-by-hand').toString('base64') } })]);
  const { condition: denied, seconds } = await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'False', 15_000);
  assert.is(denied.reason, 'Forbidden');
  assert.not.match(denied.message ?? '', /changed-by-hand/);
  process.stderr.write(`figure: hand-changed edit_auth → StreamerConfigSaved False through real Knative: ${seconds.toFixed(2)} s\n`);

  // A deleted license-storage Secret is recreated at once, with a new generated password (the
  // old one went with it); the running server still has the old one, so the push is refused
  // (False) until the Pod is recreated and reads the new one, then True.
  const before = await editAuth(ns);
  await kubectl.ok(['delete', 'secret', 'simple-license-storage', '-n', ns]);
  const recreated = await waitFor('the license-storage Secret recreated', async () => {
    const got = await kubectl.run(['get', 'secret', 'simple-license-storage', '-n', ns, '-o', 'json']);
    return got.code === 0 ? (JSON.parse(got.stdout) as { data: { edit_auth: string } }).data.edit_auth : undefined;
  }, { timeoutMs: 15_000, intervalMs: 250 });
  assert.is.not(recreated, before, 'a new password');
  await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'False' && c.reason === 'Forbidden', 15_000);
  // The Pod recreated reads the new password; the next push is saved. (The recreated Pod gets the
  // freed IP: test/cluster/pod-network.test.ts is the harness's own check that it is reachable.)
  const deleted = Date.now();
  await kubectl.ok(['delete', 'pod', 'simple-streamer-0', '-n', ns]);
  await condition(ns, 'StreamerConfigSaved', (c) => c.status === 'True');
  process.stderr.write(`figure: streamer Pod deleted → StreamerConfigSaved True with the new password: ${((Date.now() - deleted) / 1000).toFixed(1)} s\n`);
  assert.is(await editAuth(ns), recreated, 'the recreated password is not rotated again');
});

test.after(async () => {
  await cluster.stop();
});

test.run();
