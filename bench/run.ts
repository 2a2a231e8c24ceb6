// `npm run bench` (after `npm run build`): starts a local control plane with
// five kwok nodes and the sandbox operator (real ApiServerSource adapters,
// local Broker, the three functions as processes, media-server doubles), runs
// every bench, and rewrites the measured blocks of BENCHMARKS.md.
//
//   node bench/run.ts [cold-start] [kube-request] [reconcile-children] [push-config] [scale]
// With names, only those benches run and only their blocks are rewritten.
// BENCH_QUICK=1 runs a few samples of each and prints the blocks instead of
// writing BENCHMARKS.md (to check the benches themselves).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, type KubeClient, type KubeObject } from '../lib/kube/client.ts';
import { transportFromKubeconfig } from '../lib/kube/config.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { ConditionType } from '../lib/status/condition-types.ts';
import { repoRoot, startCluster } from '../test/cluster/index.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { apiServerEvent } from '../test/e2e/sandbox.ts';
import { quickstartManifest } from '../test/fixtures/streamers.ts';
import { startSandbox } from '../test/sandbox/operator.ts';
import { buildBundles } from '../scripts/build.ts';
import { benchColdStart, COLD_TARGETS, FULL_CLIENT_NODE_DIR } from './cold-start.ts';
import { benchKubeRequest } from './kube-request.ts';
import { updateBlocks } from './markdown.ts';
import { benchPushConfig } from './push-config.ts';
import { benchReconcileChildren } from './reconcile-children.ts';
import { benchScale, SCALE_NODES, scaleMarkdown } from './scale.ts';
import { BENCH_NODES, createLicenseSecret } from './streamers.ts';

const BENCHES = ['cold-start', 'kube-request', 'reconcile-children', 'push-config', 'scale'] as const;
const MAX_RUN_MS = 45 * 60_000;
const quick = process.env.BENCH_QUICK === '1';
const sizes = quick
  ? { coldRuns: 2, sequential: 3, flood: 10, edits: 3 }
  : { coldRuns: 7, sequential: 30, flood: 200, edits: 20 };
/** Streamers of the scale bench (issue 15's 1000 unless BENCH_SCALE says otherwise). */
const scaleCount = Number(process.env.BENCH_SCALE ?? (quick ? 30 : 1000));

const wanted = process.argv.slice(2);
for (const name of wanted) if (!(BENCHES as readonly string[]).includes(name)) throw new Error(`unknown bench ${name}; try ${BENCHES.join(', ')}`);
const want = (name: (typeof BENCHES)[number]) => wanted.length === 0 || wanted.includes(name);

const began = performance.now();
const progress = (line: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
// Every bench is bounded on its own; this bounds the whole run (the exit hook of
// test/cluster/processes.ts kills the control plane and the functions).
setTimeout(() => {
  progress(`the run exceeded ${MAX_RUN_MS / 60_000} minutes; giving up`);
  process.exit(1);
}, MAX_RUN_MS).unref();

if (want('cold-start')) {
  await buildBundles({ outdir: FULL_CLIENT_NODE_DIR, fullClientNode: true });
  for (const { bundle } of COLD_TARGETS) {
    if (!existsSync(join(repoRoot, bundle))) throw new Error(`${bundle} is missing: run \`npm run build\` first (npm run bench does)`);
  }
}

const loadBefore = loadavg();
const blocks: Record<string, string> = {};
const verdicts: string[] = [];

const others = BENCHES.filter((b) => b !== 'scale' && want(b));
if (others.length > 0) await runBenches();
// Its own control plane (50 nodes) and a sandbox with three processes per function.
if (want('scale')) await runScale();

async function runBenches() {
progress('starting the control plane');
const cluster = await startCluster({ crdDirs: [join(repoRoot, 'crds')], knativeCrds: true, nodes: [...BENCH_NODES], log: progress });
try {
  const transport = await transportFromKubeconfig(cluster.kubeconfig);
  const kube = createKubeClient({ transport, fieldManager: 'bench' });
  progress('starting the sandbox operator');
  const sandbox = await startSandbox({
    kubeconfig: cluster.kubeconfig,
    binDir: cluster.binDir,
    resyncIntervalMs: 0, // no resync ticks in the middle of a measurement
    mediaServers: true,
  });
  try {
    if (want('cold-start')) {
      progress('cold start: preparing the quickstart Streamer');
      const event = await settledQuickstartEvent(cluster, kube);
      await sandbox.broker.idle(30_000);
      const result = await benchColdStart({ kubeconfig: cluster.kubeconfig, event, runs: sizes.coldRuns, progress });
      blocks['cold-start'] = result.markdown;
      verdicts.push(result.verdict);
    }
    if (want('kube-request')) {
      progress('kube-request: per-request cost');
      const namespace = await cluster.createNamespace('bench-request');
      const result = await benchKubeRequest({ kubeconfig: cluster.kubeconfig, server: cluster.server, token: cluster.token, caPem: cluster.caPem, namespace, requests: quick ? 40 : 300, progress });
      blocks['kube-request'] = result.markdown;
      verdicts.push(result.verdict);
    }
    if (want('push-config')) {
      progress('push-config: edits');
      const result = await benchPushConfig({ cluster, sandbox, kube, transport, samples: sizes.edits, progress });
      blocks['push-config'] = result.markdown;
      verdicts.push(result.verdict);
    }
    // Last: its 200-Streamer burst leaves the cluster busy.
    if (want('reconcile-children')) {
      progress('reconcile-children: sequential creates');
      const result = await benchReconcileChildren({ cluster, sandbox, kube, transport, samples: sizes.sequential, flood: sizes.flood, progress });
      blocks['reconcile-children'] = result.markdown;
      verdicts.push(result.verdict);
    }
  } finally {
    await sandbox.stop();
  }
} finally {
  await cluster.stop();
}
}

async function runScale() {
  progress(`scale: starting a control plane with ${SCALE_NODES.length} nodes`);
  const cluster = await startCluster({ crdDirs: [join(repoRoot, 'crds')], knativeCrds: true, nodes: SCALE_NODES, log: progress });
  try {
    const transport = await transportFromKubeconfig(cluster.kubeconfig);
    const kube = createKubeClient({ transport, fieldManager: 'bench' });
    // BENCH_HEAP_DIR: each function's first process writes a heap snapshot there mid-burst (a
    // separate run: writing it stalls the process for seconds).
    const heapDir = process.env.BENCH_HEAP_DIR;
    // The function processes get knative/service.yaml's NODE_OPTIONS (the V8 heap knobs), as a
    // replica would.
    const nodeOptions = [serviceNodeOptions(), heapDir ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${heapDir}` : ''].filter(Boolean).join(' ');
    const functionEnv: Record<string, string> = nodeOptions ? { NODE_OPTIONS: nodeOptions } : {};
    // Each function as the image runs it: its production bundle under functions-framework.
    const serveArgs = (name: string, port: number) => [join(repoRoot, 'bench', 'serve-bundle.mjs'), join(repoRoot, 'dist', `${name}.js`), name, String(port)];
    for (const name of ['reconcile-children', 'push-config', 'probe-status']) {
      if (!existsSync(join(repoRoot, 'dist', `${name}.js`))) throw new Error(`dist/${name}.js is missing: run \`npm run build\` first (npm run bench does)`);
    }
    const sandbox = await startSandbox({ kubeconfig: cluster.kubeconfig, binDir: cluster.binDir, resyncIntervalMs: 0, mediaServers: true, replicas: 3, functionEnv, serveArgs });
    try {
      const result = await benchScale({ cluster, sandbox, kube, transport, count: scaleCount, progress, ...(heapDir ? { heapSnapshotAt: Math.floor(scaleCount / 2) } : {}) });
      blocks.scale = scaleMarkdown(result, 256);
      verdicts.push(`scale: ${scaleCount} Streamers converged in ${Math.round(result.convergeMs)} ms; resync ${Math.round(result.tick.wallMs)} ms`);
    } finally {
      await sandbox.stop();
    }
  } finally {
    await cluster.stop();
  }
}

/** NODE_OPTIONS of the operator's container in knative/service.yaml ('' when unset). */
function serviceNodeOptions(): string {
  const text = readFileSync(join(repoRoot, 'knative', 'service.yaml'), 'utf8');
  return /- name: NODE_OPTIONS\n\s+value: "([^"]*)"/.exec(text)?.[1] ?? '';
}

// The machine block describes the run of the other benches; the scale bench's own run is
// described inside its block (it may run alone, on another day).
if (others.length > 0) blocks.machine = machine(loadBefore, loadavg());
else if (blocks.scale) blocks.scale = `${blocks.scale}\n\nThis run:\n${machine(loadBefore, loadavg())}`;
if (quick) {
  for (const [id, body] of Object.entries(blocks)) process.stdout.write(`\n## ${id}\n\n${body}\n`);
} else {
  await updateBlocks(join(repoRoot, 'BENCHMARKS.md'), blocks);
  progress(`BENCHMARKS.md updated (${Object.keys(blocks).join(', ')})`);
}
for (const verdict of verdicts) progress(verdict);

/** The spec's quickstart, settled (children, StreamerReady and StreamerConfigSaved True); its resource.update event. */
async function settledQuickstartEvent(cluster: Awaited<ReturnType<typeof startCluster>>, kube: KubeClient) {
  const namespace = await cluster.createNamespace('bench-cold');
  await createLicenseSecret(kube, namespace);
  await kube.create({ ...quickstartManifest, metadata: { ...quickstartManifest.metadata, namespace } } as KubeObject);
  const key = { apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name: quickstartManifest.metadata.name };
  const streamer = await waitFor('the quickstart Streamer settled', async () => {
    const object = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(key);
    const isTrue = (type: string) => object?.status?.conditions?.some((c) => c.type === type && c.status === 'True');
    return isTrue(ConditionType.ready) && isTrue(ConditionType.configSaved) ? object : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250 });
  return apiServerEvent('dev.knative.apiserver.resource.update', streamer!, streamer);
}

function machine(before: number[], after: number[]): string {
  const commit = (() => {
    try {
      const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot }).toString().trim();
      const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: repoRoot }).toString().trim() ? ' + uncommitted changes' : '';
      return `${head}${dirty}`;
    } catch {
      return 'unknown';
    }
  })();
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  return [
    `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; commit ${commit}`,
    `- Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory; Node ${process.version} (${process.platform}/${process.arch})`,
    `- Load average (1 / 5 / 15 min) at start: ${load(before)}; at end: ${load(after)}. The control plane, the sandbox and the benches share these CPUs.`,
  ].join('\n');
}
