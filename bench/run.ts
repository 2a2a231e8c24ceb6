// `npm run bench` (after `npm run build`): starts the operator on real Knative Eventing in a
// sealed cluster with five kwok nodes (test/e2e/sandbox.ts useRealSandbox: `kubectl apply -k
// knative/`, the Broker, Triggers and ApiServerSource adapters Knative makes, the functions as two
// replicas of the ksvc stand-in behind the delivery proxy, a media-server double in every streamer
// Pod), runs every bench, and rewrites the measured blocks of BENCHMARKS.md. Needs root, or
// unprivileged user namespaces (test/cluster/rootless.ts). The host reaches the API server
// through the cluster's relay on 127.0.0.1 and never dials the sealed network: deliveries are read
// from the delivery proxy's record, media doubles and function logs from files in the run dir.
//
//   node bench/run.ts [cold-start] [kube-request] [reconcile-children] [push-config]
// With names, only those benches run and only their blocks are rewritten.
// BENCH_COLD_RUNS=<n> sets the cold-start runs per row (default 7).
// BENCH_QUICK=1 runs a few samples of each and prints the blocks instead of
// writing BENCHMARKS.md (to check the benches themselves).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, type KubeClient, type KubeObject } from '../lib/kube/client.ts';
import { transportFromKubeconfig } from '../lib/kube/config.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { ConditionType } from '../lib/status/condition-types.ts';
import { repoRoot, type Cluster } from '../test/cluster/index.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { apiServerEvent, useRealSandbox } from '../test/e2e/sandbox.ts';
import { quickstartManifest } from '../test/fixtures/streamers.ts';
import { OPERATOR_NAMESPACE } from '../test/sandbox/real-knative.ts';
import { buildBundles } from '../scripts/build.ts';
import { benchColdStart, COLD_TARGETS, FULL_CLIENT_NODE_DIR } from './cold-start.ts';
import { benchKubeRequest } from './kube-request.ts';
import { updateBlocks } from './markdown.ts';
import { benchPushConfig } from './push-config.ts';
import { benchReconcileChildren } from './reconcile-children.ts';
import { BENCH_NODES, createLicenseSecret } from './streamers.ts';

const BENCHES = ['cold-start', 'kube-request', 'reconcile-children', 'push-config'] as const;
const MAX_RUN_MS = 45 * 60_000;
const quick = process.env.BENCH_QUICK === '1';
const sizes = quick
  ? { coldRuns: 2, sequential: 3, flood: 10, edits: 3 }
  : { coldRuns: Number(process.env.BENCH_COLD_RUNS ?? 7), sequential: 30, flood: 200, edits: 20 };

const wanted = process.argv.slice(2);
for (const name of wanted) if (!(BENCHES as readonly string[]).includes(name)) throw new Error(`unknown bench ${name}; try ${BENCHES.join(', ')}`);
const want = (name: (typeof BENCHES)[number]) => wanted.length === 0 || wanted.includes(name);

const began = performance.now();
const progress = (line: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
// Every bench is bounded on its own; this bounds the whole run (the exit hook of
// test/cluster/processes.ts kills the control plane and every Pod's process).
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

progress('starting the sealed cluster and the operator on real Knative Eventing');
// Its createNamespace waits until the ApiServerSource adapters watch the new namespace (Knative
// rolls them for every namespace change; an event in that window is lost). One media-double
// process serves every streamer Pod: the 200-Streamer burst would otherwise start 200 Node
// processes on the same CPUs as the path it measures.
const { cluster, sandbox } = await useRealSandbox({ nodes: [...BENCH_NODES], replicas: 2, sharedMedia: true, log: progress });
try {
  // No resync tick in the middle of a measurement: the PingSource goes (the loopback harness
  // before this ran with no ticks either).
  await cluster.kubectl.ok(['delete', 'pingsources.sources.knative.dev', 'streamer-resync', '-n', OPERATOR_NAMESPACE, '--wait=true', '--timeout=60s']);
  const transport = await transportFromKubeconfig(cluster.kubeconfig);
  const kube = createKubeClient({ transport, fieldManager: 'bench' });
  if (want('cold-start')) {
    progress('cold start: preparing the quickstart Streamer');
    const event = await settledQuickstartEvent(cluster, kube);
    await sandbox.broker.idle(30_000, 1_000);
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

blocks.machine = machine(loadBefore, loadavg());
if (quick) {
  for (const [id, body] of Object.entries(blocks)) process.stdout.write(`\n## ${id}\n\n${body}\n`);
} else {
  await updateBlocks(join(repoRoot, 'BENCHMARKS.md'), blocks);
  progress(`BENCHMARKS.md updated (${Object.keys(blocks).join(', ')})`);
}
for (const verdict of verdicts) progress(verdict);

/** The spec's quickstart, settled (children, StreamerReady and StreamerConfigSaved True); its resource.update event. */
async function settledQuickstartEvent(cluster: Cluster, kube: KubeClient) {
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
    `- Load average (1 / 5 / 15 min) at start: ${load(before)}; at end: ${load(after)}. The sealed cluster (control plane, Knative Eventing, the functions' replicas, the media doubles) and the benches share these CPUs.`,
  ].join('\n');
}
