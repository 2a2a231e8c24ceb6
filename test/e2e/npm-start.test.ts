// `npm start` as a user runs it: wait for `sandbox ready` (its own sealed cluster with real
// Knative Eventing, so root), follow the spec's commands with the printed kubectl and kubeconfig
// (the relay on 127.0.0.1), find Knative's logs where it says, then Ctrl-C and check nothing is
// left. And the removed flags of the mode that ran the functions here against an existing
// cluster are refused with one message, starting nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '../cluster/index.ts';
import { harnessNamespaces } from '../cluster/netns.ts';
import { isRunning } from '../cluster/processes.ts';
import { waitFor } from '../cluster/wait.ts';
import { useCluster } from '../cluster/shared.ts';
import { quickstartManifest } from '../fixtures/streamers.ts';

const run = promisify(execFile);
const test = suite('npm start');

/** Every process below `pid` (detached children keep their parent pid). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** Processes in process group `group` (npm start's children stay in its group). */
function inGroup(group: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === group) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Runs `npm start <args>` in its own process group, as a terminal would, with `extraEnv` added. */
function npmStart(args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KUBECONFIG;
  delete env.STREAMER_TEST_CLUSTER;
  Object.assign(env, extraEnv);
  const child = spawn('npm', ['start', ...args], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    output: () => output,
    exited,
    group: child.pid!,
    ready: () => waitFor('sandbox ready', async () => (output.includes('sandbox ready') ? true : undefined), { timeoutMs: 360_000, intervalMs: 200 }).catch((error: Error) => {
      throw new Error(`${error.message}\n--- npm start said:\n${output.slice(-4000)}`);
    }),
    descendants: () => descendants(child.pid!),
    /** Ctrl-C: the terminal signals the whole foreground group. */
    async interrupt() {
      // ESRCH: the group already exited (then the test's own failure is the one to report).
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 90_000))]);
    },
  };
}

async function assertAllGone(pids: number[]) {
  await waitFor('every process gone', async () => (pids.every((p) => !isRunning(p)) ? true : undefined), { timeoutMs: 60_000 });
  assert.equal(pids.filter(isRunning), []);
}

/**
 * A new user's bad input, typed with the printed kubectl: the cases are refused with the
 * field named, the natural override converges, what only the API server sees is reported and
 * converges once fixed; one Warning (the refusal), none for progress, no dead letter.
 */
async function badInputSteps(kubectlPath: string, kubeconfig: string, output: () => string) {
  const kubectl = (args: string[], input?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(kubectlPath, [`--kubeconfig=${kubeconfig}`, ...args], (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
    child.stdin?.end(input ?? '');
  });
  // Its own name and no host ports, so it runs beside the example Streamer on the one node.
  const { adminHostPort: _port, ...base } = quickstartManifest.spec;
  const manifest = (spec: Record<string, unknown>, name = 'newcomer') => JSON.stringify({ ...quickstartManifest, metadata: { name }, spec: { ...base, ...spec } });
  const apply = (spec: Record<string, unknown>) => kubectl(['apply', '-f', '-'], manifest(spec));
  type Seen = { status: string; reason: string; message: string; observedGeneration?: number };
  const condition = (type: string, ok: (c: Seen, generation: number) => boolean) =>
    waitFor(`${type} of newcomer`, async () => {
      const streamer = JSON.parse((await kubectl(['get', 'streamer', 'newcomer', '-o', 'json'])).stdout) as { metadata: { generation: number }; status?: { conditions?: (Seen & { type: string })[] } };
      const found = streamer.status?.conditions?.find((c) => c.type === type);
      return found && ok(found, streamer.metadata.generation) ? found : undefined;
    }, { timeoutMs: 90_000, intervalMs: 250 });
  const current = (c: Seen, generation: number) => c.status === 'True' && c.observedGeneration === generation;

  const port = await apply({ hostPort: 81 });
  assert.is(port.code, 1);
  assert.match(port.stderr, /spec\.hostPort: Invalid value: .*must not be 81/);
  const volume = await apply({ volumes: [{ name: 'Storage_Bad', mountPath: '/storage', emptyDir: {} }] });
  assert.match(volume.stderr, /spec\.volumes\[0\]\.name: Invalid value: .*must be a valid Pod volume name/);
  const long = await kubectl(['apply', '-f', '-'], manifest({}, 'a'.repeat(44)));
  assert.match(long.stderr, /metadata\.name must be at most 43 characters/);

  assert.is((await apply({ env: [{ name: 'FLUSSONIC_HOSTNAME', value: 'my-host' }] })).code, 0);
  await condition('StreamerReady', current);
  await condition('ChildrenReady', current);

  assert.is((await apply({ env: [{ name: 'FLUSSONIC_HOSTNAME', value: 'my-host' }], selectorLabels: { app: 'not a label value!' } })).code, 0);
  const refused = await condition('ChildrenReady', (c) => c.status === 'False');
  assert.match(refused.message, /the API server refused .* \(422 Invalid\)/);
  assert.is((await apply({ selectorLabels: { app: 'fixed' } })).code, 0);
  await condition('ChildrenReady', current);
  await condition('StreamerReady', current);

  const events = JSON.parse((await kubectl(['get', 'events.events.k8s.io', '-o', 'json'])).stdout) as { items: { type: string; reason: string; regarding?: { kind?: string; name?: string } }[] };
  const warnings = events.items.filter((e) => e.type === 'Warning' && e.regarding?.kind === 'Streamer' && e.regarding.name === 'newcomer').map((e) => e.reason);
  assert.equal(warnings, ['ApplyRefused'], 'one Warning: the refusal; none for progress');
  assert.not.match(output(), /"outcome":"dead-letter"/);
  await kubectl(['delete', 'streamer', 'newcomer', '--wait=true']);
}

test('starts the sandbox on real Knative (KUBECONFIG set in the environment is ignored), serves the spec\'s commands through the relay, says where Knative logs, and Ctrl-C leaves no process or namespace behind', async () => {
  // Build (or find) the binaries first through the shared harness, so the timing below is the start itself.
  await useCluster();
  const npm = npmStart([], { KUBECONFIG: '/nonexistent/kubeconfig-of-another-cluster' });
  let pids: number[] = [];
  try {
    await npm.ready();
    const output = npm.output();
    const kubeconfig = /kubeconfig: (\S+)/.exec(output)?.[1];
    const kubectlPath = /kubectl: +(\S+)/.exec(output)?.[1];
    assert.is(kubeconfig, `${repoRoot}.local/kubeconfig`);
    assert.is(kubectlPath, `${repoRoot}.local/bin/kubectl`);
    assert.match(output, /KUBECONFIG is set \(\/nonexistent\/kubeconfig-of-another-cluster\); npm start ignores it and runs its own cluster/);
    // The kubeconfig dials the relay on the host's loopback, never the sealed network.
    const server = (JSON.parse(readFileSync(kubeconfig!, 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0]?.cluster.server;
    assert.match(server ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    // Knative's own logs are where the output says.
    const logs = /logs: +(\S+)/.exec(output)?.[1];
    assert.ok(logs && existsSync(join(logs, 'kube-apiserver.log')), `control-plane logs in ${logs}`);
    const podLogs = readdirSync(join(logs!, 'pods'));
    for (const name of ['eventing-controller', 'eventing-webhook', 'mt-broker-ingress', 'mt-broker-filter', 'imc-dispatcher']) {
      assert.ok(podLogs.some((f) => f.startsWith(`knative-eventing_${name}-`) && f.endsWith('.log')), `${name}'s log in ${logs}/pods`);
    }
    assert.ok(podLogs.some((f) => /^streamer-operator-system_apiserversource-.*_receive-adapter\.log$/.test(f)), 'an ApiServerSource adapter\'s log');
    const kubectl = async (...args: string[]) => (await run(kubectlPath!, [`--kubeconfig=${kubeconfig}`, ...args])).stdout;

    assert.match(await kubectl('get', 'streamers'), /simple/);
    await kubectl('wait', '--for=condition=StreamerReady=true', 'streamer/simple', '--timeout=60s');
    const editAuth = Buffer.from(await kubectl('get', 'secret', 'simple-license-storage', '-o', 'jsonpath={.data.edit_auth}'), 'base64').toString();
    assert.match(editAuth, /^[^:]+:.+$/);
    await kubectl('patch', 'streamer', 'simple', '--type=merge', '-p', JSON.stringify({ spec: { configExtra: { 'extra.conf': 'stream demo {\n  input fake://fake;\n}\n' } } }));
    await waitFor('StreamerConfigSaved True for the edit', async () => {
      const streamer = JSON.parse(await kubectl('get', 'streamer', 'simple', '-o', 'json')) as { metadata: { generation: number }; status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] } };
      const saved = streamer.status?.conditions?.find((c) => c.type === 'StreamerConfigSaved');
      return saved?.status === 'True' && saved.observedGeneration === streamer.metadata.generation ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    assert.match(npm.output(), /"outcome":"done"/, 'one structured log line per event (JSON: not a TTY)');
    await badInputSteps(kubectlPath!, kubeconfig!, npm.output);
    await kubectl('delete', 'streamer', 'simple', '--wait=true');
    await waitFor('children collected', async () => ((await kubectl('get', 'statefulsets', '-o', 'name')).trim() === '' ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    pids = npm.descendants();
    assert.ok(pids.length >= 8, `npm start runs the control plane, Knative, adapters and functions (${pids.length} processes)`);
  } finally {
    await npm.interrupt();
  }
  await assertAllGone(pids);
  // The sealed network's namespaces carry the owning process id; none of npm start's is left.
  assert.equal(harnessNamespaces().filter((name) => pids.includes(Number(name.split('-')[1]))), []);
});

test('npm start -- --kubeconfig, --context or --resync-seconds is refused with one message naming kubectl apply -k knative/, and starts nothing', async () => {
  for (const args of [['--kubeconfig', '/tmp/some-cluster.kubeconfig'], ['--context=production'], ['--no-example', '--resync-seconds', '10']]) {
    const npm = npmStart(['--', ...args]);
    const code = await Promise.race([npm.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 30_000))]);
    if (code === 'running') await npm.interrupt();
    assert.is(code, 2, `npm start ${args.join(' ')} exits 2 at once`);
    const flag = args.find((a) => a.startsWith('--') && a !== '--no-example')!.split('=')[0]!;
    assert.match(npm.output(), `npm start: ${flag} is no longer supported: npm start does not run the functions on this machine against an existing cluster any more.`);
    assert.match(npm.output(), 'deploy it with `kubectl apply -k knative/` (docs/install.md)');
    assert.not.match(npm.output(), /starting the local control plane|sandbox ready/);
    assert.equal(inGroup(npm.group), [], 'no process of npm start is left');
  }
});

test.run();
