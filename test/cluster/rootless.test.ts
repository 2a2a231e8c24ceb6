// A user without privileges gets the same sealed cluster (rootless.ts): a process of an ordinary
// user (nobody, uid 65534) holding no capability re-runs itself in a rootless user namespace and
// the sealed Pod network's own suite (pod-network.test.ts: Pods on the bridge, Services through
// kube-proxy, volumes, a freed IP reused) and the namespaced install's on real Knative
// (namespaced-delivery.test.ts) pass there, leaving no namespace on the host. Where
// the kernel refuses user namespaces, the error names what is missing and the sysctls that
// enable them.
// The checkout and the binary cache may sit where that user cannot read (CI's clone, root's
// home), so the test shows them to it through bind mounts in a private mount namespace: what it
// then runs is what that user would run from its own checkout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildBinaries, buildKnativeBinaries } from './binaries.ts';
import { repoRoot } from './index.ts';
import { harnessNamespaces } from './netns.ts';
import { hasNetworkAdmin, inUserNamespace } from './rootless.ts';

const NOBODY = 65534;
const test = suite('rootless sealed cluster');

/** Runs argv to its end (at most `timeoutMs`): exit code and the combined output. */
const finish = (argv: string[], timeoutMs: number) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 64 << 20, cwd: repoRoot }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` })));
/** `argv` with no capability in any set: not in effect, not inheritable, none to gain by exec. */
const withoutCapabilities = (argv: string[], uid?: number) =>
  ['setpriv', ...(uid === undefined ? [] : [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups']), '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', ...argv];

test('privileged means CAP_NET_ADMIN and CAP_SYS_ADMIN in effect; the host user namespace has the identity uid_map', () => {
  assert.ok(hasNetworkAdmin('CapEff:\t000001ffffffffff\n'));
  assert.not.ok(hasNetworkAdmin('CapEff:\t0000000000001000\n')); // CAP_NET_ADMIN alone
  assert.not.ok(hasNetworkAdmin('CapEff:\t0000000000000000\n'));
  assert.ok(inUserNamespace('         0       1000          1\n'));
  assert.not.ok(inUserNamespace('         0          0 4294967295\n'));
});

/**
 * Runs a test file as nobody with no capability, the checkout (and ../shared beside it) and the
 * binary caches bind-mounted where nobody can read them, in a private mount namespace that dies
 * with it. Resolves with its output once it has ended, after checking it ran rootless, passed
 * every test and left no namespace on the host.
 */
async function passesAsNobody(file: string, timeoutMs: number): Promise<void> {
  const [bin, knative] = [await buildBinaries(() => undefined), await buildKnativeBinaries(() => undefined)];
  const shared = join(repoRoot, '..', 'shared');
  const view = await mkdtemp(join(tmpdir(), 'sop-rootless-view-'));
  try {
    await chmod(view, 0o755);
    for (const dir of ['repo', 'shared', 'bin', 'knative', 'home']) await mkdir(join(view, dir));
    await chown(join(view, 'home'), NOBODY, NOBODY);
    const inView = (path: string) => (path.startsWith(`${repoRoot}/`) ? join(view, 'repo', relative(repoRoot, path)) : path);
    const binds = 'mount --bind "$1" "$5/repo" && mount --bind "$2" "$5/bin" && mount --bind "$3" "$5/knative" && { [ ! -d "$4" ] || mount --bind "$4" "$5/shared"; } && shift 5 && exec "$@"';
    const before = new Set(harnessNamespaces());
    const { code, out } = await finish([
      'unshare', '--mount', '--propagation', 'private', 'sh', '-c', binds, 'sh', repoRoot, bin, knative, shared, view,
      ...withoutCapabilities(['env', `HOME=${view}/home`, `STREAMER_OPERATOR_BIN_DIR=${view}/bin`, `STREAMER_OPERATOR_KNATIVE_DIR=${view}/knative`,
        inView(process.execPath), join(view, 'repo', file)], NOBODY),
    ], timeoutMs);
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(plain, /no CAP_NET_ADMIN and CAP_SYS_ADMIN: the sealed cluster runs in a rootless user namespace/);
    const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1]);
    assert.ok(total >= 1, plain.slice(-3000));
    assert.is(Number(/Passed:\s+(\d+)/.exec(plain)?.[1]), total, plain.slice(-3000));
    assert.is(code, 0, plain.slice(-3000));
    // Its namespaces lived in its own mount namespace; another sealed lane's may come and go here.
    const pid = /rootless user namespace \(pid (\d+)\)/.exec(plain)?.[1];
    assert.ok(pid);
    assert.equal(harnessNamespaces().filter((n) => !before.has(n) && n.startsWith(`sop-${pid}-`)), []);
  } finally {
    await rm(view, { recursive: true, force: true });
  }
}

test('an ordinary user without any capability runs a sealed cluster in a rootless user namespace: the Pod network suite passes, the host gets no namespace', async () => {
  await passesAsNobody('test/cluster/pod-network.test.ts', 300_000);
});

test('the same user installs real Knative Eventing and knative-namespaced/ there: its Broker, Triggers and sources become Ready and a Streamer converges through them', async () => {
  await passesAsNobody('test/knative/namespaced-delivery.test.ts', 400_000);
});

test('where user namespaces are refused, the error names what is missing and how to enable it', async () => {
  // A user namespace whose max_user_namespaces is 0 refuses any nested one, as a kernel with
  // them disabled does; the process inside holds no capability.
  const entry = `import(${JSON.stringify(join(repoRoot, 'test/cluster/rootless.ts'))}).then((m) => m.enterRootlessIfNeeded()).then(() => console.log('entered'))`;
  const script = `echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"`;
  const { code, out } = await finish(['unshare', '--user', '--map-root-user', 'sh', '-c', script, 'sh', ...withoutCapabilities([process.execPath, '-e', entry])], 30_000);
  assert.is.not(code, 0);
  assert.not.match(out, /entered/);
  assert.match(out, /needs root, or unprivileged user namespaces/);
  assert.match(out, /No space left on device/); // unshare's own reason
  assert.match(out, /user\.max_user_namespaces/);
  assert.match(out, /sudo -E npm test/);
});

test.run();
