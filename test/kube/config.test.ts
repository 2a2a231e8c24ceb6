// lib/kube/config.ts against the real API server: every way a kubeconfig hands out
// credentials reaches the API server as the identity it names, read back with a
// SelfSubjectReview (the server's own answer to "who am I").
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTransient } from '../../lib/events/errors.ts';
import { createKubeClient, send, type KubeTransport } from '../../lib/kube/client.ts';
import { defaultTransport, KubeConfigError, loadDefault, SERVICE_ACCOUNT_DIR, transportFromKubeconfig, transportInCluster } from '../../lib/kube/config.ts';
import { KubeCredentialError } from '../../lib/kube/errors.ts';
import { issueClientCertificate } from '../cluster/client-ca.ts';
import { useCluster } from '../cluster/shared.ts';

const cluster = await useCluster();
const work = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'));
process.once('beforeExit', () => void rm(work, { recursive: true, force: true }));
const caData = Buffer.from(cluster.caPem).toString('base64');

type UserInfo = { username: string; groups: string[] };

/** The identity the API server sees for requests through `transport`. */
async function whoami(transport: KubeTransport): Promise<UserInfo> {
  const response = await send(transport, {
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { type: 'application/json', data: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }) },
  }, 10_000);
  assert.is(response.statusCode, 201, response.text);
  const { status } = JSON.parse(response.text) as { status: { userInfo: { username: string; groups?: string[] } } };
  return { username: status.userInfo.username, groups: status.userInfo.groups ?? [] };
}

async function folder(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

type Entry = Record<string, unknown>;
const kubeconfig = ({ clusters = [], users = [], contexts = [], current }: { clusters?: Entry[]; users?: Entry[]; contexts?: Entry[]; current?: string }) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters, users, contexts, ...(current ? { 'current-context': current } : {}) }, null, 2);
const localCluster = (name = 'local', extra: Entry = {}) => ({ name, cluster: { server: cluster.server, 'certificate-authority-data': caData, ...extra } });
const context = (name: string, user: string, clusterName = 'local') => ({ name, context: { cluster: clusterName, user } });

/** The ExecCredential an exec plugin prints. */
const execCredential = (status: Record<string, unknown>) => JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status });

/**
 * A small exec credential plugin: each run prints the next prepared ExecCredential
 * (credential-<run>.json, else credential.json), counts its runs and keeps the
 * KUBERNETES_EXEC_INFO it was given.
 */
const PLUGIN = `#!/bin/sh
dir=$(dirname "$0")
n=$(( $(cat "$dir/runs" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/exec-info-$n.json"
if [ -f "$dir/fail" ]; then echo "the plugin cannot reach its identity provider" >&2; exit 1; fi
f="$dir/credential-$n.json"; [ -f "$f" ] || f="$dir/credential.json"
cat "$f"
`;

async function execPluginConfig(name: string): Promise<{ dir: string; path: string; runs(): Promise<number> }> {
  const dir = await folder(name);
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'credential-plugin'), PLUGIN);
  await chmod(join(dir, 'bin', 'credential-plugin'), 0o755);
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({
    clusters: [localCluster()],
    // A relative command with a slash: client-go resolves it against the kubeconfig's folder.
    users: [{ name: 'plugin', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/credential-plugin', interactiveMode: 'Never' } } }],
    contexts: [context('local', 'plugin')],
    current: 'local',
  }));
  return { dir, path, runs: async () => Number((await readFile(join(dir, 'bin', 'runs'), 'utf8').catch(() => '0')).trim()) };
}

const exec = suite('exec credential plugins');

exec('a token from the plugin, cached until its expirationTimestamp, then asked for again', async () => {
  const plugin = await execPluginConfig('exec-token');
  const soon = new Date(Date.now() + 8_000).toISOString();
  await writeFile(join(plugin.dir, 'bin', 'credential.json'), execCredential({ token: cluster.token, expirationTimestamp: soon }));
  const transport = await transportFromKubeconfig(plugin.path);
  const kube = createKubeClient({ transport, fieldManager: 'config-test' });
  assert.is((await whoami(transport)).username, 'admin');
  assert.ok(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }));
  assert.is(await plugin.runs(), 1, 'one run for the first three requests (creation, whoami, get)');
  await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 200));
  assert.ok(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }));
  assert.is(await plugin.runs(), 2, 'the expired credential was replaced');
  const info = JSON.parse(await readFile(join(plugin.dir, 'bin', 'exec-info-1.json'), 'utf8')) as { kind: string; apiVersion: string; spec: { interactive: boolean } };
  assert.equal(info, { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } });
});

exec('a client certificate from the plugin; a new one after expiry changes the identity', async () => {
  const plugin = await execPluginConfig('exec-cert');
  const first = await issueClientCertificate(cluster.clientCa, { dir: plugin.dir, name: 'first', user: 'plugin-cert-user-1', groups: ['plugin-users'] });
  const second = await issueClientCertificate(cluster.clientCa, { dir: plugin.dir, name: 'second', user: 'plugin-cert-user-2' });
  const soon = new Date(Date.now() + 8_000).toISOString();
  const pem = async (file: string) => readFile(file, 'utf8');
  await writeFile(join(plugin.dir, 'bin', 'credential-1.json'), execCredential({ clientCertificateData: await pem(first.certFile), clientKeyData: await pem(first.keyFile), expirationTimestamp: soon }));
  await writeFile(join(plugin.dir, 'bin', 'credential.json'), execCredential({ clientCertificateData: await pem(second.certFile), clientKeyData: await pem(second.keyFile) }));
  const transport = await transportFromKubeconfig(plugin.path);
  const before = await whoami(transport);
  assert.is(before.username, 'plugin-cert-user-1');
  assert.ok(before.groups.includes('plugin-users'));
  await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 200));
  assert.is((await whoami(transport)).username, 'plugin-cert-user-2', 'new TLS material, new connection');
  assert.is(await plugin.runs(), 2);
});

exec('a failing plugin: KubeCredentialError with its stderr, retried later', async () => {
  const plugin = await execPluginConfig('exec-fail');
  await writeFile(join(plugin.dir, 'bin', 'fail'), '');
  try {
    await transportFromKubeconfig(plugin.path);
    assert.unreachable('the plugin failed');
  } catch (error) {
    assert.instance(error, KubeCredentialError);
    assert.match((error as Error).message, /user "plugin".*cannot reach its identity provider/);
    assert.ok(isTransient(error));
  }
});

const files = suite('certificate and token files');

files('client-certificate and client-key files, and the CA file, relative to the kubeconfig folder', async () => {
  const dir = await folder('cert-files');
  await mkdir(join(dir, 'pki'));
  await writeFile(join(dir, 'pki', 'ca.crt'), cluster.caPem);
  await issueClientCertificate(cluster.clientCa, { dir: join(dir, 'pki'), name: 'user', user: 'minikube-user', groups: ['system:masters'] });
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({
    clusters: [{ name: 'minikube', cluster: { server: cluster.server, 'certificate-authority': 'pki/ca.crt' } }],
    users: [{ name: 'minikube', user: { 'client-certificate': 'pki/user.crt', 'client-key': 'pki/user.key' } }],
    contexts: [context('minikube', 'minikube', 'minikube')],
    current: 'minikube',
  }));
  assert.not.ok(process.cwd().startsWith(dir), 'relative paths must not resolve against the working directory');
  const transport = await transportFromKubeconfig(path);
  assert.equal(await whoami(transport), { username: 'minikube-user', groups: ['system:masters', 'system:authenticated'] });
  // system:masters: the certificate user may do what the operator does.
  const kube = createKubeClient({ transport, fieldManager: 'config-test' });
  assert.ok(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' }));
});

files('a tokenFile user (relative, trailing newline) and a wrong token refused by the server', async () => {
  const dir = await folder('token-file');
  await writeFile(join(dir, 'token'), `${cluster.token}\n`);
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({
    clusters: [localCluster()],
    users: [{ name: 'file', user: { tokenFile: 'token' } }, { name: 'wrong', user: { token: 'not-a-token' } }],
    contexts: [context('file', 'file'), context('wrong', 'wrong')],
    current: 'file',
  }));
  assert.is((await whoami(await transportFromKubeconfig(path))).username, 'admin');
  const wrong = await transportFromKubeconfig(path, { context: 'wrong' });
  const response = await send(wrong, { method: 'GET', path: '/api/v1/namespaces/default' }, 10_000);
  assert.is(response.statusCode, 401);
});

files('insecure-skip-tls-verify without a CA', async () => {
  const dir = await folder('insecure');
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({
    clusters: [{ name: 'local', cluster: { server: cluster.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'admin', user: { token: cluster.token } }],
    contexts: [context('local', 'admin')],
    current: 'local',
  }));
  assert.is((await whoami(await transportFromKubeconfig(path))).username, 'admin');
});

files('without the CA, the serving certificate is refused', async () => {
  const dir = await folder('no-ca');
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({
    clusters: [{ name: 'local', cluster: { server: cluster.server } }],
    users: [{ name: 'admin', user: { token: cluster.token } }],
    contexts: [context('local', 'admin')],
    current: 'local',
  }));
  const transport = await transportFromKubeconfig(path);
  try {
    await send(transport, { method: 'GET', path: '/api/v1/namespaces/default' }, 10_000);
    assert.unreachable('an unknown CA must fail TLS');
  } catch (error) {
    assert.match(String((error as Error & { cause?: Error }).cause?.message), /self[- ]signed|unable to verify|certificate/i);
  }
});

const lists = suite('KUBECONFIG lists and contexts');

lists('KUBECONFIG naming two files: merged as kubectl merges them (first wins), missing files skipped', async () => {
  const dir = await folder('two-files');
  await issueClientCertificate(cluster.clientCa, { dir, name: 'second-user', user: 'second-file-user' });
  const a = join(dir, 'clusters.yaml');
  // The first file: the cluster and one user, and a current-context it does not define.
  await writeFile(a, kubeconfig({ clusters: [localCluster()], users: [{ name: 'admin', user: { token: cluster.token } }], current: 'from-a' }));
  // The second file: another user (relative certificate paths: against *its* folder), the
  // contexts, a repeated user name (ignored: the first file's wins) and its own current-context.
  await mkdir(join(dir, 'b'));
  const bPath = join(dir, 'b', 'contexts.yaml');
  await writeFile(bPath, kubeconfig({
    users: [{ name: 'admin', user: { token: 'shadowed' } }, { name: 'second', user: { 'client-certificate': '../second-user.crt', 'client-key': '../second-user.key' } }],
    contexts: [context('from-a', 'admin'), context('from-b', 'second')],
    current: 'from-b',
  }));
  const env = { KUBECONFIG: [a, join(dir, 'missing.yaml'), bPath].join(':') };
  assert.is((await whoami(await defaultTransport(env))).username, 'admin', 'current-context and user admin from the first file');
  assert.is((await whoami(await defaultTransport(env, { context: 'from-b' }))).username, 'second-file-user');
});

lists('a context chosen by flag; an unknown one is refused with the names it has', async () => {
  const dir = await folder('contexts');
  await issueClientCertificate(cluster.clientCa, { dir, name: 'dev', user: 'dev-user' });
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({
    clusters: [localCluster()],
    users: [{ name: 'admin', user: { token: cluster.token } }, { name: 'dev', user: { 'client-certificate': 'dev.crt', 'client-key': 'dev.key' } }],
    contexts: [context('admin', 'admin'), context('dev', 'dev')],
    current: 'admin',
  }));
  assert.is((await whoami(await transportFromKubeconfig(path))).username, 'admin');
  assert.is((await whoami(await transportFromKubeconfig(path, { context: 'dev' }))).username, 'dev-user');
  try {
    await transportFromKubeconfig(path, { context: 'prod' });
    assert.unreachable('no such context');
  } catch (error) {
    assert.instance(error, KubeConfigError);
    assert.match((error as Error).message, /no context "prod" \(it has: admin, dev\)/);
  }
});

lists('a kubeconfig without a current-context asks for --context', async () => {
  const dir = await folder('no-current');
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({ clusters: [localCluster()], users: [{ name: 'admin', user: { token: cluster.token } }], contexts: [context('admin', 'admin')] }));
  try {
    await transportFromKubeconfig(path);
    assert.unreachable('no current-context');
  } catch (error) {
    assert.instance(error, KubeConfigError);
    assert.match((error as Error).message, /no current-context; choose one with --context/);
  }
  assert.is((await whoami(await transportFromKubeconfig(path, { context: 'admin' }))).username, 'admin');
});

const defaults = suite('in-cluster and the default order');

defaults('in a Pod: the ServiceAccount token and CA, when KUBECONFIG is unset', async () => {
  const ns = await cluster.createNamespace('in-cluster');
  await cluster.kubectl.ok(['create', 'serviceaccount', 'operator', '-n', ns]);
  const token = (await cluster.kubectl.ok(['create', 'token', 'operator', '-n', ns, '--duration=10m'])).trim();
  const root = await folder('pod');
  await mkdir(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
  await writeFile(join(root, SERVICE_ACCOUNT_DIR, 'token'), token);
  await writeFile(join(root, SERVICE_ACCOUNT_DIR, 'ca.crt'), cluster.caPem);
  await writeFile(join(root, SERVICE_ACCOUNT_DIR, 'namespace'), ns);
  const { hostname, port } = new URL(cluster.server);
  const env = { KUBERNETES_SERVICE_HOST: hostname, KUBERNETES_SERVICE_PORT: port };
  const transport = await transportInCluster(env, root);
  assert.is((await whoami(transport)).username, `system:serviceaccount:${ns}:operator`);
  assert.is(process.env.KUBERNETES_SERVICE_HOST, undefined, 'the process environment is left as it was');
});

defaults('no KUBECONFIG, not in a Pod: ~/.kube/config; nothing at all: a clear error', async () => {
  const home = await folder('home');
  try {
    await loadDefault({ HOME: home });
    assert.unreachable('nothing to load');
  } catch (error) {
    assert.instance(error, KubeConfigError);
    assert.match((error as Error).message, /set KUBECONFIG or pass --kubeconfig, or run in a Pod/);
  }
  await mkdir(join(home, '.kube'));
  await writeFile(join(home, '.kube', 'config'), kubeconfig({ clusters: [localCluster()], users: [{ name: 'admin', user: { token: cluster.token } }], contexts: [context('home', 'admin')], current: 'home' }));
  assert.is((await loadDefault({ HOME: home })).getCurrentContext(), 'home');
});

defaults('an OIDC user with an unexpired id-token sends it as the bearer token', async () => {
  // The API server here has no OIDC issuer configured: only what the client sends is checked.
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const idToken = `${part({ alg: 'RS256' })}.${part({ iss: 'https://issuer.invalid', sub: 'dev', exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
  const dir = await folder('oidc');
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfig({
    clusters: [localCluster()],
    users: [{ name: 'oidc', user: { 'auth-provider': { name: 'oidc', config: { 'client-id': 'kubernetes', 'id-token': idToken, 'idp-issuer-url': 'https://issuer.invalid' } } } }],
    contexts: [context('oidc', 'oidc')],
    current: 'oidc',
  }));
  const transport = await transportFromKubeconfig(path);
  assert.is((await transport.headers()).authorization, `Bearer ${idToken}`);
  const response = await send(transport, { method: 'GET', path: '/api/v1/namespaces/default' }, 10_000);
  assert.is(response.statusCode, 401, 'the server has no OIDC issuer: the token is refused, not ignored');
});

exec.run();
files.run();
lists.run();
defaults.run();
