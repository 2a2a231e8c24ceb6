// Function replicas at scale (issue 15, parts 5 and the benchmarks), as the image runs them,
// fed by the real event path minus Knative's own processes: the real ApiServerSource adapters
// configured from knative/ (test/events/adapter.ts) send every Streamer and child event to the
// local Broker (test/sandbox/broker.ts), which routes by the Triggers in knative/ and retries as
// they say (6 times, exponential from 0.5 s), through a stand-in for Serving's activator
// (bench/activator.ts: a queue handing each replica at most containerConcurrency requests,
// least-loaded first), as a burst beyond a revision's capacity reaches its Pods on a cluster.
//
// The replica runs as the image runs it: the production bundle (dist/index.js, target
// streamer-operator) under functions-framework (bench/serve-bundle.mjs), with the
// Service's env (NODE_OPTIONS, KUBE_*, RESYNC_*), and containerConcurrency as
// MAX_EVENTS_IN_FLIGHT (knative/service.yaml). Its own control plane on loopback with 50 kwok
// nodes; a media-server double on every streamer Pod's loopback IP
// (test/sandbox/media-servers.ts), run in this script's process.
//
// Steps, for each of BENCH_REPLICA_COUNTS (default 10,100,1000) Streamers in one namespace:
// create the missing ones (50 creates in flight) and let the events do the rest; a resync tick
// (one per path, one after the other, as PingSource's) is sent only when no Streamer converged
// for STALL_MS. Then one tick of the settled cluster is measured (wall, lists, writes, media
// calls) and the replica's RSS read at rest. Each step also reports the API server's own request
// counts (its /metrics, by resource and verb, every client) and the CPU seconds each process
// of the cluster, the replicas and this script used.
//
//   node bench/replica.ts            (after npm run build; prints the steps as JSON, writes nothing)
//   BENCH_HEAP_DIR=/tmp/heaps node bench/replica.ts   also writes a heap snapshot at rest
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parse } from 'yaml';
import { createKubeClient, send, type KubeClient, type KubeObject, type KubeTransport } from '../lib/kube/client.ts';
import { transportFromKubeconfig } from '../lib/kube/config.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { repoRoot, startCluster } from '../test/cluster/index.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { startAdapter } from '../test/events/adapter.ts';
import { startBroker, type TriggerLike } from '../test/sandbox/broker.ts';
import { startMediaServers } from '../test/sandbox/media-servers.ts';
import { knativeDir } from '../test/sandbox/operator.ts';
import { apiServerSources, readManifests } from '../test/sandbox/sources.ts';
import { startTriggerRouter } from '../test/knative/trigger-filter.ts';
import { startActivator } from './activator.ts';
import { trackChildren } from './children.ts';
import { memoryOf, startListening, stopChild } from './processes.ts';
import { ms } from './stats.ts';
import { benchStreamer, createLicenseSecret } from './streamers.ts';

const PATHS = ['reconcile-children', 'push-config', 'probe-status'] as const;
const NODES = ['stream-node', ...Array.from({ length: 49 }, (_, i) => `scale-node-${i + 1}`)];
const CREATE_IN_FLIGHT = 50;
const STEP_TIMEOUT_MS = 15 * 60_000;
/** No Streamer converged for this long: send a resync tick (the real one comes every 10 minutes). */
const STALL_MS = 60_000;
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
// Stopped by hand (Ctrl-C, which exits through the cluster's own handler): the replicas go too.
process.once('exit', () => {
  for (const r of replicas) r.child.kill('SIGKILL');
});
let nextReplica = 0;
/** The replica a delivery goes to: round robin, as Knative's activator and queue spread them. */
const pick = () => replicas[nextReplica++ % replicas.length]!;
// RSS sampled every 100 ms (VmHWM is the kernel's own peak; the samples tell which step it was in).
const sampler = setInterval(() => {
  for (const r of replicas) void memoryOf(r.pid).then((m) => (r.stepPeakKb = Math.max(r.stepPeakKb, m.rssKb))).catch(() => undefined);
}, 100);

/** Tick deliveries answered 503 and sent again (the replica's gate was full, or a transient error). */
let redelivered = 0;

// The event path: the real adapters → the local Broker → the activator stand-in (a queue,
// containerConcurrency per replica, least-loaded first) → a replica.
const activator = await startActivator({ upstreams: replicas.map((r) => `http://127.0.0.1:${r.port}`), concurrency: service.containerConcurrency });
const manifests = await readManifests(knativeDir);
const triggerManifests = manifests.filter((m) => m.kind === 'Trigger');
// Knative's own filter code decides where each event goes (test/knative/trigger-filter.ts).
const router = await startTriggerRouter(triggerManifests as never);
const broker = await startBroker({
  triggers: triggerManifests as unknown as TriggerLike[],
  route: async (attributes) => (await router.route([attributes]))[0] ?? [],
  resolve(trigger) {
    const path = trigger.spec.subscriber?.uri ?? '';
    return `${activator.url}${path.startsWith('/') ? path : `/${path}`}`;
  },
  // Knative's own backoff: 0.5 s × 2^attempt, the sixth retry after 16 s (no test cap).
  maxBackoffMs: 60_000,
});
const adapters = await Promise.all(apiServerSources(manifests).map((source) =>
  startAdapter({ ...source, binDir: cluster.binDir, kubeconfig: cluster.kubeconfig, sink: broker.url })));

/** CPU seconds (user + system) so far of every process of the cluster, the replicas, the adapters and this script. */
async function cpuSeconds(): Promise<Record<string, number>> {
  const ticksPerSecond = 100;
  const out: Record<string, number> = {};
  const add = (name: string, seconds: number) => (out[name] = (out[name] ?? 0) + seconds);
  const statOf = async (pid: number) => {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  };
  const known = new Map<number, string>([
    ...replicas.map((r) => [r.pid, `replica ${r.index}`] as [number, string]),
    ...adapters.map((a) => [a.pid, 'apiserver_receive_adapter'] as [number, string]),
  ]);
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      let name = known.get(pid);
      if (!name) {
        const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
        if (!argv.some((a) => a.includes(cluster.runDir))) continue;
        name = argv[0]!.split('/').at(-1)!;
      }
      add(name, await statOf(pid));
    } catch {
      // The process ended meanwhile.
    }
  }
  const self = process.cpuUsage();
  add('bench (media doubles, Broker, adapters\' API proxy)', (self.user + self.system) / 1e6);
  return out;
}

const cpuSince = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Number((v - (before[k] ?? 0)).toFixed(1))]).sort((a, b) => Number(b[1]) - Number(a[1])));

/** The API server's apiserver_request_total, summed by resource and verb (every client). */
async function apiRequests(t: KubeTransport): Promise<Record<string, number>> {
  const response = await send(t, { method: 'GET', path: '/metrics', accept: 'text/plain' }, 30_000);
  const out: Record<string, number> = {};
  for (const line of response.text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels['verb'] === 'WATCH' || labels['verb'] === 'CONNECT') continue;
    const key = `${labels['verb']} ${labels['resource']}${labels['subresource'] ? `/${labels['subresource']}` : ''}`;
    out[key] = (out[key] ?? 0) + Number(line.split(' ').at(-1));
  }
  return out;
}

function apiSince(before: Record<string, number>, after: Record<string, number>) {
  const delta = Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  return { total: delta.reduce((n, [, v]) => n + v, 0), top: Object.fromEntries(delta.slice(0, 14)) };
}

/**
 * One tick delivery as the Broker makes it (knative/base/triggers.yaml: retry 6, exponential from
 * 0.5 s, Retry-After honoured): the final status.
 */
async function post(path: string, headers: Record<string, string>, body: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    // Each attempt through the Service again: any replica.
    const response = await fetch(`http://127.0.0.1:${pick().port}/${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(120_000) });
    await response.arrayBuffer();
    if (attempt >= 6 || ![429, 503].includes(response.status)) return response.status;
    redelivered++;
    const after = Number(response.headers.get('retry-after'));
    await new Promise((r) => setTimeout(r, Math.max(Number.isFinite(after) ? after * 1_000 : 0, 500 * 2 ** attempt)));
  }
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
    const fromDelivery = broker.deliveries.length;
    redelivered = 0;
    const [cpuBefore, apiBefore] = [await cpuSeconds(), await apiRequests(transport)];
    const first = performance.now();
    // Spread over the 49 scale nodes by the Streamer's number (a kwok node takes 110 Pods).
    await inParallel(names, CREATE_IN_FLIGHT, async (name) => {
      const index = Number(name.slice(2));
      await kube.create(benchStreamer({ name, namespace, nodeName: NODES[1 + (index % (NODES.length - 1))]! }));
    });
    progress(`${count}: ${names.length} created in ${ms(performance.now() - first)} ms`);
    let childrenAt = 0;
    const reporter = setInterval(() => progress(`${count}: children of ${names.filter((n) => tracker.childrenAt(n) !== undefined).length}/${names.length} at ${ms(performance.now() - first)} ms; deliveries ${broker.deliveries.length - fromDelivery} done, activator ${JSON.stringify(activator.stats())}`), 30_000);
    try {
      for (const name of names) childrenAt = Math.max(childrenAt, await tracker.waitChildren(name, STEP_TIMEOUT_MS));
    } finally {
      clearInterval(reporter);
    }
    progress(`${count}: all children ${ms(childrenAt - first)} ms after the first create`);
    let ticks = 0;
    let lastDone = -1;
    let lastProgress = performance.now();
    let lastReport = performance.now();
    let trueAt: number[] = [];
    const convergedAt = await waitFor(`${count} Streamers with both conditions True`, async () => {
      const items = await kube.list<StreamerView>({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace });
      const done = items.filter((s) => isTrue(s, 'StreamerReady') && isTrue(s, 'StreamerConfigSaved')).length;
      const now = performance.now();
      if (now - lastReport >= 30_000) {
        lastReport = now;
        progress(`${count}: ${done}/${count} True at ${ms(now - first)} ms; deliveries ${broker.deliveries.length - fromDelivery} done, activator ${JSON.stringify(activator.stats())}`);
      }
      if (done > lastDone) {
        for (let i = Math.max(0, lastDone); i < done; i++) trueAt.push(now - first);
        lastDone = done;
        lastProgress = now;
      }
      if (done >= count) return now;
      if (now - lastProgress >= STALL_MS) {
        ticks++;
        const t = await tick();
        progress(`${count}: ${done}/${count} True, none for ${ms(now - lastProgress)} ms; tick ${ticks} ${ms(t.wallMs)} ms ${t.statuses.join('/')}`);
        lastProgress = performance.now();
      }
      return undefined;
    }, { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 2_000 });
    progress(`${count}: all True ${ms(convergedAt - first)} ms after the first create (${ticks} ticks)`);
    await broker.idle(120_000);
    const idleMs = performance.now() - first;
    const stepDeliveries = broker.deliveries.slice(fromDelivery);
    const byStatus: Record<string, number> = {};
    for (const d of stepDeliveries) byStatus[String(d.status)] = (byStatus[String(d.status)] ?? 0) + 1;
    const byRoute: Record<string, number> = {};
    for (const d of stepDeliveries) byRoute[`${d.trigger} ← ${d.kind ?? 'ping'} ${d.eventType.replace('dev.knative.apiserver.', '')}`] = (byRoute[`${d.trigger} ← ${d.kind ?? 'ping'} ${d.eventType.replace('dev.knative.apiserver.', '')}`] ?? 0) + 1;
    const deliveries = {
      byRoute: Object.fromEntries(Object.entries(byRoute).sort((a, b) => b[1] - a[1])),
      total: stepDeliveries.length, attempts: stepDeliveries.reduce((n, d) => n + d.attempts, 0),
      deadLettered: stepDeliveries.filter((d) => d.deadLettered).length, byStatus, idleMs, activator: activator.stats(),
    };
    const cpu = cpuSince(cpuBefore, await cpuSeconds());
    const api = apiSince(apiBefore, await apiRequests(transport));
    trueAt = trueAt.slice(0, count);
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
      count, created: names.length, childrenMs: childrenAt - first, convergedMs: convergedAt - first, convergedP50Ms: trueAt[Math.floor(trueAt.length / 2)], repairTicks: ticks,
      deliveries, redelivered, refused: lines.slice(fromLine).filter((l) => l.outcome === 'refused').length, events: stepLines.length, coalesced: stepLines.filter((l) => l.result?.['coalesced'] === true).length, reads: sum('reads'), writes: sum('writes'),
      cpu, api,
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
  await Promise.all(adapters.map((a) => a.stop()));
  await broker.stop();
  router.stop();
  await activator.stop();
  await Promise.all(replicas.map((r) => stopChild(r.child)));
  await media.stop();
  await cluster.stop();
}
process.stdout.write(`${JSON.stringify({ service: { ...service.env, containerConcurrency: service.containerConcurrency, replicas: replicaCount, limitMb: service.limitMb }, steps }, null, 2)}\n`);
