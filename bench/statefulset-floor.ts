// The floor under "1000 Streamers created at once → all children and both conditions True"
// (issue 15): how long the control plane alone takes to turn 1000 StatefulSets into Ready Pods,
// with no operator at all. The same cluster as bench/replica.ts (loopback, 50 kwok nodes; the
// StatefulSet controller of kube-controller-manager with its default client QPS, kwok moving the
// Pods to Running and Ready), and the StatefulSets the operator would make for the bench's
// Streamers (lib/k8s/stateful-set.ts), with their ServiceAccounts, created up front; no owner
// references (there are no Streamers, and the garbage collector would delete orphans).
//
//   node bench/statefulset-floor.ts      (prints JSON; BENCH_FLOOR_COUNT to change the 1000)
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { createKubeClient, METADATA_LIST_ACCEPT, send, type KubeObject } from '../lib/kube/client.ts';
import { transportFromKubeconfig } from '../lib/kube/config.ts';
import { buildServiceAccount } from '../lib/k8s/service-account.ts';
import { buildStatefulSet } from '../lib/k8s/stateful-set.ts';
import { Streamer } from '../lib/schema/streamer.ts';
import { repoRoot, startCluster } from '../test/cluster/index.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { ms } from './stats.ts';
import { benchStreamer } from './streamers.ts';
import { openWatch } from './watch.ts';

const NODES = ['stream-node', ...Array.from({ length: 49 }, (_, i) => `scale-node-${i + 1}`)];
const COUNT = Number(process.env.BENCH_FLOOR_COUNT ?? 1000);
const CREATE_IN_FLIGHT = 50;
const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line} (load ${loadavg()[0]!.toFixed(1)})\n`);

async function inParallel<T>(items: T[], limit: number, each: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await each(items[next++]!);
  }));
}

const withoutOwner = (object: object): KubeObject => {
  const o = object as KubeObject;
  const { ownerReferences: _owners, ...metadata } = o.metadata;
  return { ...o, metadata };
};

// BENCH_FLOOR_KCM_ARGS: kube-controller-manager flags to add (space-separated), e.g. its client
// rate limit `--kube-api-qps=200 --kube-api-burst=300` (defaults 20 and 30).
const kcmArgs = (process.env.BENCH_FLOOR_KCM_ARGS ?? '').split(/\s+/).filter(Boolean);
const cluster = await startCluster({ crdDirs: [join(repoRoot, 'crds')], nodes: NODES, log: progress, controllerManagerArgs: kcmArgs });
const transport = await transportFromKubeconfig(cluster.kubeconfig);
const kube = createKubeClient({ transport, fieldManager: 'bench' });
try {
  const namespace = await cluster.createNamespace('bench-floor');
  const streamers = Array.from({ length: COUNT }, (_, index) => Streamer.parse({
    ...benchStreamer({ name: `s-${String(index).padStart(4, '0')}`, namespace, nodeName: NODES[1 + (index % (NODES.length - 1))]! }),
    metadata: { name: `s-${String(index).padStart(4, '0')}`, namespace, uid: crypto.randomUUID(), generation: 1 },
  }));
  await inParallel(streamers, CREATE_IN_FLIGHT, async (s) => void (await kube.create(withoutOwner(buildServiceAccount(s)))));
  progress(`${COUNT} ServiceAccounts created`);
  const podAdded = new Map<string, number>();
  const podReady = new Map<string, number>();
  const setReady = new Map<string, number>();
  const watches = await Promise.all([
    openWatch({ transport, apiVersion: 'v1', kind: 'Pod', namespace, onEvent({ type, object, at }) {
      const name = object.metadata.name;
      if (type === 'ADDED' && !podAdded.has(name)) podAdded.set(name, at);
      const ready = (object.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (ready && !podReady.has(name)) podReady.set(name, at);
    } }),
    openWatch({ transport, apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, onEvent({ object, at }) {
      const status = object.status as { readyReplicas?: number } | undefined;
      if ((status?.readyReplicas ?? 0) >= 1 && !setReady.has(object.metadata.name)) setReady.set(object.metadata.name, at);
    } }),
  ]);
  const first = performance.now();
  await inParallel(streamers, CREATE_IN_FLIGHT, async (s) => void (await kube.create(withoutOwner(buildStatefulSet(s)))));
  const createdMs = performance.now() - first;
  progress(`${COUNT} StatefulSets created in ${ms(createdMs)} ms`);
  const last = (m: Map<string, number>) => Math.max(...m.values()) - first;
  const quantile = (m: Map<string, number>, q: number) => {
    const sorted = [...m.values()].map((t) => t - first).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  };
  let loadDuring = loadavg()[0]!;
  await waitFor(`${COUNT} StatefulSets with a Ready Pod`, async () => {
    loadDuring = Math.max(loadDuring, loadavg()[0]!);
    progress(`pods ${podAdded.size}, ready ${podReady.size}, sets ready ${setReady.size}`);
    return setReady.size >= COUNT && podReady.size >= COUNT ? true : undefined;
  }, { timeoutMs: 20 * 60_000, intervalMs: 5_000 });
  await Promise.all(watches.map((w) => w.close()));
  // What a resync tick's list page of these Pods weighs (500 a page, the default), in full and
  // metadata-only (lib/runtime/resync.ts: reconcile-children asks for metadata only).
  const pageBytes = async (accept?: string) => Buffer.byteLength((await send(transport, {
    method: 'GET', path: `/api/v1/namespaces/${namespace}/pods?limit=500&labelSelector=${encodeURIComponent('app.kubernetes.io/managed-by=streamer-operator')}`, ...(accept ? { accept } : {}),
  }, 30_000)).text);
  const podPage = { fullBytes: await pageBytes(), metadataOnlyBytes: await pageBytes(METADATA_LIST_ACCEPT) };
  const result = {
    count: COUNT, nodes: NODES.length, kcmArgs, createdMs,
    podsCreatedMs: last(podAdded), podsCreatedP50Ms: quantile(podAdded, 0.5),
    podsReadyMs: last(podReady), statefulSetsReadyMs: last(setReady), statefulSetsReadyP50Ms: quantile(setReady, 0.5),
    podsCreatedPerSecond: COUNT / (last(podAdded) / 1000), podPage,
    maxLoad1m: loadDuring, loadAtEnd: loadavg().map((n) => n.toFixed(1)).join(' / '),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await cluster.stop();
}
