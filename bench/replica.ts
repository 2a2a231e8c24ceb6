// One function replica at scale (issue 15, parts 5 and the benchmarks), without a Broker:
// the real topology "ApiServerSource with the function as its sink", the adapter's part
// played by this script, which POSTs the function the CloudEvents an adapter in Resource mode
// sends (`resource.add` of each Streamer, binary mode), and PingSource's tick.
//
// The replica runs as the image runs it: the production bundle (dist/index.js, target
// streamer-operator) under functions-framework (bench/serve-bundle.mjs), with the
// Service's NODE_OPTIONS, and containerConcurrency as MAX_EVENTS_IN_FLIGHT (knative/service.yaml).
// Its own control plane on loopback with 50 kwok nodes; a media-server double on every streamer
// Pod's loopback IP (test/sandbox/media-servers.ts), run in this script's process.
//
// Steps, for each of BENCH_REPLICA_COUNTS (default 10,100,1000) Streamers in one namespace:
// create the missing ones (50 creates in flight), send each new one's `resource.add` to the
// three paths at once (BURST_IN_FLIGHT requests open, as a Broker fans a burst out), then send
// resync ticks (one per path, one after the other) until every Streamer has both conditions
// True: no adapter delivers the StatefulSet and Pod events here, so what follows the first
// event is the resync's repair path. Then one tick of the settled cluster is measured
// (wall, lists, writes, media calls) and the replica's RSS read at rest.
//
//   node bench/replica.ts            (after npm run build; prints the steps as JSON, writes nothing)
//   BENCH_HEAP_DIR=/tmp/heaps node bench/replica.ts   also writes a heap snapshot at rest
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parse } from 'yaml';
import { createKubeClient, type KubeClient, type KubeObject } from '../lib/kube/client.ts';
import { transportFromKubeconfig } from '../lib/kube/config.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { repoRoot, startCluster } from '../test/cluster/index.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { startMediaServers } from '../test/sandbox/media-servers.ts';
import { trackChildren } from './children.ts';
import { memoryOf, startListening, stopChild } from './processes.ts';
import { ms } from './stats.ts';
import { benchStreamer, createLicenseSecret } from './streamers.ts';

const PATHS = ['reconcile-children', 'push-config', 'probe-status'] as const;
const NODES = ['stream-node', ...Array.from({ length: 49 }, (_, i) => `scale-node-${i + 1}`)];
const CREATE_IN_FLIGHT = 50;
/** Deliveries open at once during a burst: more than the replica's gate lets in, as from a Broker. */
const BURST_IN_FLIGHT = 200;
const STEP_TIMEOUT_MS = 15 * 60_000;
const BASE_PORT = 18_000 + Math.floor(Math.random() * 1_000);
const counts = (process.env.BENCH_REPLICA_COUNTS ?? '10,100,1000').split(',').map(Number);
const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line} (load ${loadavg()[0]!.toFixed(1)})\n`);

/** The replica's container as knative/service.yaml declares it. */
async function serviceContainer() {
  const service = parse(await readFile(join(repoRoot, 'knative', 'service.yaml'), 'utf8'));
  const spec = service.spec.template.spec;
  const container = spec.containers[0];
  const env = Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
  const limit = String(container.resources.limits.memory);
  const maxScale = Number(service.spec.template.metadata.annotations['autoscaling.knative.dev/max-scale']);
  return { env, containerConcurrency: Number(spec.containerConcurrency), maxScale, limitMb: Number(/^(\d+)Mi$/.exec(limit)?.[1] ?? Number.NaN) };
}

type Line = Record<string, unknown> & { function?: string; outcome?: string; status?: number; result?: Record<string, unknown> };

const service = await serviceContainer();
const cluster = await startCluster({ crdDirs: [join(repoRoot, 'crds')], nodes: NODES, log: progress });
const transport = await transportFromKubeconfig(cluster.kubeconfig);
const kube: KubeClient = createKubeClient({ transport, fieldManager: 'bench' });
const media = await startMediaServers({ transport, intervalMs: 2_000 });
const lines: Line[] = [];
const heapDir = process.env.BENCH_HEAP_DIR;
/** knative/service.yaml's max-scale: the replicas a burst is spread over (BENCH_REPLICAS to change). */
const replicaCount = Number(process.env.BENCH_REPLICAS ?? service.maxScale);
const replicas = await Promise.all(Array.from({ length: replicaCount }, async (_, index) => {
  const port = BASE_PORT + index;
  const started = await startListening({
    args: [...(heapDir ? ['--heapsnapshot-signal=SIGUSR2', '--report-on-signal', '--report-signal=SIGWINCH', `--diagnostic-dir=${heapDir}`, `--report-directory=${heapDir}`] : []), join(repoRoot, 'bench', 'serve-bundle.mjs'), join(repoRoot, 'dist', 'index.js'), 'streamer-operator', String(port)],
    // EVENT_AUTH none: the bench is the sender and has no Knative OIDC identity to present.
    env: { ...process.env, ...service.env, EVENT_AUTH: 'none', KUBECONFIG: cluster.kubeconfig, MAX_EVENTS_IN_FLIGHT: String(service.containerConcurrency) },
    timeoutMs: 60_000,
  });
  let buffered = '';
  started.child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const raw of parts) if (raw.startsWith('{')) lines.push({ ...(JSON.parse(raw) as Line), replica: index });
    if (process.env.BENCH_LINES) void appendFile(process.env.BENCH_LINES, parts.join('\n') + '\n');
  });
  return { index, port, child: started.child, pid: started.child.pid!, stepPeakKb: 0 };
}));
let nextReplica = 0;
/** The replica a delivery goes to: round robin, as Knative's activator and queue spread them. */
const pick = () => replicas[nextReplica++ % replicas.length]!;
// RSS sampled every 100 ms (VmHWM is the kernel's own peak; the samples tell which step it was in).
const sampler = setInterval(() => {
  for (const r of replicas) void memoryOf(r.pid).then((m) => (r.stepPeakKb = Math.max(r.stepPeakKb, m.rssKb))).catch(() => undefined);
}, 100);

/** Deliveries answered 503 and sent again (the replica's gate was full, or a transient error). */
let redelivered = 0;

/**
 * One delivery as the Broker makes it (knative/base/triggers.yaml: retry 6, exponential from
 * 0.5 s, Retry-After honoured): the final status.
 */
async function post(path: string, headers: Record<string, string>, body: string, to = pick()): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`http://127.0.0.1:${to.port}/${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(120_000) });
    await response.arrayBuffer();
    if (attempt >= 6 || ![429, 503].includes(response.status)) return response.status;
    redelivered++;
    const after = Number(response.headers.get('retry-after'));
    await new Promise((r) => setTimeout(r, Math.max(Number.isFinite(after) ? after * 1_000 : 0, 500 * 2 ** attempt)));
  }
}

/** What an ApiServerSource adapter in Resource mode sends for `object` (binary content mode). */
function resourceEvent(type: string, object: KubeObject) {
  const { apiVersion, kind, metadata } = object;
  return {
    headers: {
      'ce-specversion': '1.0', 'ce-type': type, 'ce-source': cluster.server, 'ce-id': crypto.randomUUID(),
      'ce-subject': `/apis/${apiVersion}/namespaces/${metadata.namespace}/streamers/${metadata.name}`,
      'ce-kind': kind, 'ce-name': metadata.name, 'ce-namespace': metadata.namespace ?? '', 'ce-apiversion': apiVersion,
      'content-type': 'application/json',
    },
    body: JSON.stringify(object),
  };
}

const pingHeaders = () => ({
  'ce-specversion': '1.0', 'ce-type': 'dev.knative.sources.ping', 'ce-source': '/apis/v1/namespaces/streamer-operator-system/pingsources/streamer-resync',
  'ce-id': crypto.randomUUID(), 'content-type': 'application/json',
});

async function inParallel<T>(items: T[], limit: number, each: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await each(items[next++]!);
  }));
}

type StreamerView = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };
const isTrue = (s: StreamerView, t: string) => s.status?.conditions?.some((c) => c.type === t && c.status === 'True') ?? false;

/** One tick per path, in turn; the resync lines they logged. */
async function tick() {
  const from = lines.length;
  const started = performance.now();
  const statuses: number[] = [];
  // PingSource sends one tick per Trigger; Knative hands each to one replica.
  for (const path of PATHS) statuses.push(await post(path, pingHeaders(), '{}'));
  const wallMs = performance.now() - started;
  const resync = lines.slice(from).filter((l) => l.outcome === 'resync');
  return { wallMs, statuses, resync };
}

const mediaCalls = (namespace: string, names: string[]) => names.reduce((n, name) => n + (media.get(namespace, `${name}-streamer-0`)?.received.length ?? 0), 0);

const namespace = await cluster.createNamespace('bench-replica');
await createLicenseSecret(kube, namespace);
const tracker = await trackChildren({ transport, namespace });
const steps: Record<string, unknown>[] = [];
let made = 0;
try {
  for (const count of counts) {
    const names = Array.from({ length: count - made }, (_, i) => `s-${String(made + i).padStart(4, '0')}`);
    const all = Array.from({ length: count }, (_, i) => `s-${String(i).padStart(4, '0')}`);
    made = count;
    for (const r of replicas) r.stepPeakKb = 0;
    const fromLine = lines.length;
    const first = performance.now();
    const created: KubeObject[] = [];
    // Spread over the 49 scale nodes by the Streamer's number (a kwok node takes 110 Pods).
    await inParallel(names, CREATE_IN_FLIGHT, async (name) => {
      const index = Number(name.slice(2));
      created.push(await kube.create(benchStreamer({ name, namespace, nodeName: NODES[1 + (index % (NODES.length - 1))]! })));
    });
    progress(`${count}: ${names.length} created in ${ms(performance.now() - first)} ms`);
    const deliveries = created.flatMap((object) => PATHS.map((path) => ({ path, event: resourceEvent('dev.knative.apiserver.resource.add', object) })));
    const statuses = new Map<number, number>();
    redelivered = 0;
    await inParallel(deliveries, BURST_IN_FLIGHT, async ({ path, event }) => {
      const status = await post(path, event.headers, event.body).catch(() => 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    const burstMs = performance.now() - first;
    progress(`${count}: burst answered in ${ms(burstMs)} ms: ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}`);
    let childrenAt = 0;
    for (const name of names) childrenAt = Math.max(childrenAt, await tracker.waitChildren(name, STEP_TIMEOUT_MS));
    progress(`${count}: all children ${ms(childrenAt - first)} ms after the first create`);
    let ticks = 0;
    const convergedAt = await waitFor(`${count} Streamers with both conditions True`, async () => {
      const items = await kube.list<StreamerView>({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace });
      const done = items.filter((s) => isTrue(s, 'StreamerReady') && isTrue(s, 'StreamerConfigSaved')).length;
      if (done >= count) return performance.now();
      ticks++;
      const t = await tick();
      progress(`${count}: ${done}/${count} True; tick ${ticks} ${ms(t.wallMs)} ms ${t.statuses.join('/')}`);
      return undefined;
    }, { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 1_000 });
    const stepLines = lines.slice(fromLine).filter((l) => l.eventId !== undefined);
    const sum = (k: string) => stepLines.reduce((s, l) => s + Number(l.result?.[k] ?? 0), 0);
    const burstPeakMb = replicas.map((r) => r.stepPeakKb / 1024);
    // The settled cluster's tick.
    await new Promise((r) => setTimeout(r, 3_000));
    const mediaBefore = mediaCalls(namespace, all);
    const settled = await tick();
    const mediaDuring = mediaCalls(namespace, all) - mediaBefore;
    await new Promise((r) => setTimeout(r, 10_000));
    const rest = await Promise.all(replicas.map((r) => memoryOf(r.pid)));
    if (heapDir) {
      // Where the resident memory is, as V8 and the kernel see it (heap spaces, then mappings).
      const pid = replicas[0]!.pid;
      process.kill(pid, 'SIGWINCH');
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      progress(`${count}: replica 0 smaps_rollup ${rollup.split('\n').filter((l) => /^(Rss|Anonymous|Private_Dirty):/.test(l)).join('; ')}`);
    }
    const step = {
      count, created: names.length, burstMs, childrenMs: childrenAt - first, convergedMs: convergedAt - first, repairTicks: ticks,
      statuses: Object.fromEntries(statuses), redelivered, refused: lines.slice(fromLine).filter((l) => l.outcome === 'refused').length, events: stepLines.length, reads: sum('reads'), writes: sum('writes'),
      burstPeakMb, restMb: rest.map((m) => m.rssKb / 1024), hwmMb: rest.map((m) => m.hwmKb / 1024),
      tick: { wallMs: settled.wallMs, statuses: settled.statuses, byFunction: settled.resync.map((l) => ({ fn: l.function, streamers: l['streamers'], differing: l['differing'], lists: l['lists'], reads: l['reads'], writes: l['writes'], durationMs: l['durationMs'] })) },
      mediaDuring, load: loadavg().map((n) => n.toFixed(1)).join(' / '),
    };
    steps.push(step);
    progress(`${count}: ${JSON.stringify(step)}`);
    if (heapDir && count === counts.at(-1)) {
      process.kill(replicas[0]!.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 15_000));
      progress(`heap snapshot requested into ${heapDir}`);
    }
  }
} finally {
  clearInterval(sampler);
  await tracker.close().catch(() => undefined);
  await Promise.all(replicas.map((r) => stopChild(r.child)));
  await media.stop();
  await cluster.stop();
}
process.stdout.write(`${JSON.stringify({ service: { ...service.env, containerConcurrency: service.containerConcurrency, replicas: replicaCount, limitMb: service.limitMb }, steps }, null, 2)}\n`);
