// Function replicas at scale (issue 15, part 5 and the benchmarks) on the event path as a cluster
// runs it: real Knative Eventing in a sealed cluster with 50 kwok nodes (test/sandbox/
// real-knative.ts) — the ApiServerSource adapters Knative's controller makes from knative/, the
// MT Broker on the in-memory channel, the Triggers' own delivery, retries (6, exponential from
// 0.5 s) and 60 s timeout — delivering to knative/service.yaml's max-scale replicas of the ksvc
// stand-in. Each replica is the image's program (the production bundle under functions-framework,
// the Service's env; MAX_EVENTS_IN_FLIGHT's default is containerConcurrency), run as a Pod by the
// process runner with its own ServiceAccount token. Between the Triggers and the replicas sits
// the tests' delivery proxy (test/delivery-proxy/serve.ts, no chaos), which records every
// attempt; the Service spreads requests over the replicas as kube-proxy does (at random). The
// streamer Pods are served by one media-double process on a shared host (sharedMedia:
// test/media-double/serve-many.ts), each at its Pod's IP with its own edit_auth and conf.d.
//
// Steps, for each of BENCH_REPLICA_COUNTS (default 10,100,1000) Streamers in one namespace:
// create the missing ones (50 creates in flight) and let the events do the rest; a resync tick
// (the PingSource's ping, posted to the Broker) is sent only when no Streamer converged for
// STALL_MS. Then one tick of the settled cluster is measured (wall, lists, writes, media calls)
// and the replicas' RSS read at rest. Each step also reports the API server's own request counts
// (its /metrics, by resource and verb, every client: the process runner and Knative included)
// and the CPU seconds of every process of the sandbox, by program.
//
//   node bench/replica.ts            (root or rootless; after npm run build; prints the steps as JSON, writes nothing)
//   BENCH_KCM_ARGS='--kube-api-qps=200 --kube-api-burst=300' adds controller-manager flags (the floor, section 5)
//   BENCH_IMC_ASYNC=1 gives the Broker's InMemoryChannel an asynchronous fan-out (the annotation
//     messaging.knative.dev/async-handler=true, then the IMC dispatcher restarted: it reads the
//     annotation only when it builds the channel's handler). The channel then answers the ingress
//     once it has the event, as a broker on a persistent channel (Kafka) answers once the event is
//     stored. By default the fan-out is synchronous, and each ApiServerSource adapter sends one
//     event at a time, so it waits for the slowest Trigger's subscriber before sending the next.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parse } from 'yaml';
import { createKubeClient, send, type KubeClient, type KubeObject, type KubeTransport } from '../lib/kube/client.ts';
import { transportFromKubeconfig } from '../lib/kube/config.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { repoRoot, startCluster } from '../test/cluster/index.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { STANDIN_SUFFIX } from '../test/sandbox/knative-service.ts';
import { installEventing, OPERATOR_NAMESPACE, startKnativeSandbox } from '../test/sandbox/real-knative.ts';
import { trackChildren } from './children.ts';
import { memoryOf } from './processes.ts';
import { cpuSeconds, pidsIn, processName, rssKb, sandboxPids } from './sandbox-processes.ts';
import { ms } from './stats.ts';
import { benchStreamer, createLicenseSecret } from './streamers.ts';

const NODES = ['stream-node', ...Array.from({ length: 49 }, (_, i) => `scale-node-${i + 1}`)];
const CREATE_IN_FLIGHT = 50;
const STEP_TIMEOUT_MS = 15 * 60_000;
/** No Streamer converged for this long: send a resync tick (the real one comes every 10 minutes). */
const STALL_MS = 60_000;
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
/** knative/service.yaml's max-scale: the replicas a burst is spread over (BENCH_REPLICAS to change). */
const replicaCount = Number(process.env.BENCH_REPLICAS ?? service.maxScale);
const lines: Line[] = [];
const functionsPod = `${OPERATOR_NAMESPACE}/streamer-operator${STANDIN_SUFFIX}-`;
const cluster = await startCluster({
  network: 'sealed', crdDirs: [join(repoRoot, 'crds')], nodes: NODES, sharedMedia: true, log: progress,
  alongside: installEventing(progress),
  ...(process.env.BENCH_KCM_ARGS ? { controllerManagerArgs: process.env.BENCH_KCM_ARGS.split(/\s+/) } : {}),
  // The replicas' log lines (one per event, one per resync), with the replica's Pod.
  podLines: (pod, raw) => {
    if (pod.startsWith(functionsPod) && raw.startsWith('{')) lines.push({ ...(JSON.parse(raw) as Line), replica: pod.slice(functionsPod.length) });
  },
});
const sandbox = await startKnativeSandbox(cluster, { replicas: replicaCount, log: progress, eventingInstalled: true });
const sealed = cluster.sealed!;
const transport = await transportFromKubeconfig(cluster.kubeconfig);
const kube: KubeClient = createKubeClient({ transport, fieldManager: 'bench' });

/** The replicas' Pods and the PIDs of their programs (their network namespaces' processes). */
async function replicaPids(): Promise<{ pod: string; pid: number }[]> {
  const pods = await kube.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace: OPERATOR_NAMESPACE, labelSelector: 'serving.knative.dev/service=streamer-operator' });
  return pods.flatMap((p) => {
    const netns = sealed.kubelet.networkOf(OPERATOR_NAMESPACE, p.metadata.name);
    return netns ? pidsIn([netns]).map((pid) => ({ pod: p.metadata.name, pid })) : [];
  });
}
const replicas = await replicaPids();
if (replicas.length !== replicaCount) throw new Error(`expected ${replicaCount} replica processes, found ${JSON.stringify(replicas)}`);
const peakKb = new Map<number, number>();
// RSS sampled every 100 ms (VmHWM is the kernel's own peak; the samples tell which step it was in).
const sampler = setInterval(() => {
  for (const r of replicas) peakKb.set(r.pid, Math.max(peakKb.get(r.pid) ?? 0, rssKb(r.pid)));
}, 100);

/** CPU seconds so far of every process of the sandbox, summed by program. */
function cpuByProgram(): Record<string, number> {
  const out: Record<string, number> = {};
  const replicaPid = new Set(replicas.map((r) => r.pid));
  for (const pid of sandboxPids(cluster.pids)) {
    const name = pid === process.pid ? 'bench (process runner, relays\' host side)' : replicaPid.has(pid) ? 'function replicas' : processName(pid);
    out[name] = (out[name] ?? 0) + cpuSeconds(pid);
  }
  return out;
}

const cpuSince = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Number((v - (before[k] ?? 0)).toFixed(1))]).filter(([, v]) => Number(v) > 0).sort((a, b) => Number(b[1]) - Number(a[1])));

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

async function inParallel<T>(items: T[], limit: number, each: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await each(items[next++]!);
  }));
}

type StreamerView = KubeObject & { metadata: { generation?: number }; status?: { conditions?: { type: string; status: string; reason?: string; observedGeneration?: number }[] } };
const isTrue = (s: StreamerView, t: string) => s.status?.conditions?.some((c) => c.type === t && c.status === 'True') ?? false;

/** One resync tick through the Broker (the PingSource's ping; its three Triggers), and the resync lines it caused. */
async function tick() {
  const from = lines.length;
  const started = performance.now();
  await sandbox.tick();
  const wallMs = performance.now() - started;
  // The ingress answers once the Triggers have; the lines follow within the poll of the log.
  await new Promise((r) => setTimeout(r, 1_000));
  const resync = lines.slice(from).filter((l) => l.outcome === 'resync');
  return { wallMs, resync };
}

/** Requests the media doubles of a namespace's streamer Pods have received (their state files, by Pod IP). */
async function mediaCalls(namespace: string): Promise<number> {
  const pods = await kube.list<KubeObject & { status?: { podIP?: string } }>({ apiVersion: 'v1', kind: 'Pod', namespace });
  let n = 0;
  for (const pod of pods) {
    const state = await readFile(join(cluster.runDir, 'media', `${pod.status?.podIP}.json`), 'utf8').catch(() => '');
    if (state) n += (JSON.parse(state) as { received: unknown[] }).received.length;
  }
  return n;
}

const namespace = await cluster.createNamespace('bench-replica');
if (process.env.BENCH_IMC_ASYNC === '1') {
  const channel = `inmemorychannel.messaging.knative.dev/streamer-operator-kne-trigger`;
  await cluster.kubectl.ok(['annotate', '--overwrite', '-n', OPERATOR_NAMESPACE, channel, 'messaging.knative.dev/async-handler=true']);
  await cluster.kubectl.ok(['delete', 'pod', '-n', 'knative-eventing', '-l', 'messaging.knative.dev/channel=in-memory-channel,messaging.knative.dev/role=dispatcher', '--wait=true']);
  await cluster.kubectl.ok(['rollout', 'status', 'deployment/imc-dispatcher', '-n', 'knative-eventing', '--timeout=120s']);
  progress(`async fan-out on ${channel}; the IMC dispatcher restarted`);
}
await sandbox.sourcesWatch(namespace);
await createLicenseSecret(kube, namespace);
const tracker = await trackChildren({ transport, namespace });
const steps: Record<string, unknown>[] = [];
let made = 0;
try {
  for (const count of counts) {
    const names = Array.from({ length: count - made }, (_, i) => `s-${String(made + i).padStart(4, '0')}`);
    made = count;
    peakKb.clear();
    const fromLine = lines.length;
    const fromDelivery = sandbox.broker.deliveries.length;
    const [cpuBefore, apiBefore] = [cpuByProgram(), await apiRequests(transport)];
    const first = performance.now();
    // Spread over the 49 scale nodes by the Streamer's number (a kwok node takes 110 Pods).
    await inParallel(names, CREATE_IN_FLIGHT, async (name) => {
      const index = Number(name.slice(2));
      await kube.create(benchStreamer({ name, namespace, nodeName: NODES[1 + (index % (NODES.length - 1))]! }));
    });
    progress(`${count}: ${names.length} created in ${ms(performance.now() - first)} ms`);
    const report = (what: string) => progress(`${count}: ${what} at ${ms(performance.now() - first)} ms; deliveries ${sandbox.broker.deliveries.length - fromDelivery}, unfinished ${sandbox.broker.unfinished.length}`);
    let childrenAt = 0;
    const reporter = setInterval(() => report(`children of ${names.filter((n) => tracker.childrenAt(n) !== undefined).length}/${names.length}`), 30_000);
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
        report(`${done}/${count} True`);
      }
      if (done > lastDone) {
        for (let i = Math.max(0, lastDone); i < done; i++) trueAt.push(now - first);
        lastDone = done;
        lastProgress = now;
      }
      if (done >= count) return now;
      if (now - lastProgress >= STALL_MS) {
        // What the stalled ones say, and whether deliveries are still queued (a backlog, not a loss).
        const stalled = items.filter((s) => !(isTrue(s, 'StreamerReady') && isTrue(s, 'StreamerConfigSaved'))).slice(0, 10);
        for (const s of stalled) {
          const said = (s.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration ?? '?'}`).join(' ');
          progress(`${count}: stalled ${s.metadata.name} (generation ${s.metadata.generation}): ${said || 'no conditions'}`);
        }
        report('stall');
        ticks++;
        const t = await tick();
        progress(`${count}: ${done}/${count} True, none for ${ms(now - lastProgress)} ms; tick ${ticks} ${ms(t.wallMs)} ms`);
        lastProgress = performance.now();
      }
      return undefined;
    }, { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 2_000 });
    progress(`${count}: all True ${ms(convergedAt - first)} ms after the first create (${ticks} ticks)`);
    await sandbox.broker.idle(120_000, 2_000);
    const idleMs = performance.now() - first;
    const stepDeliveries = sandbox.broker.deliveries.slice(fromDelivery);
    const byStatus: Record<string, number> = {};
    const byRoute: Record<string, number> = {};
    for (const d of stepDeliveries) {
      byStatus[String(d.status)] = (byStatus[String(d.status)] ?? 0) + 1;
      const route = `${d.trigger} ← ${d.kind ?? 'ping'} ${d.eventType.replace('dev.knative.apiserver.', '')}`;
      byRoute[route] = (byRoute[route] ?? 0) + 1;
    }
    const deliveries = {
      byRoute: Object.fromEntries(Object.entries(byRoute).sort((a, b) => b[1] - a[1])),
      total: stepDeliveries.length, attempts: stepDeliveries.reduce((n, d) => n + d.attempts, 0),
      deadLettered: stepDeliveries.filter((d) => d.deadLettered).length, byStatus, idleMs,
    };
    const cpu = cpuSince(cpuBefore, cpuByProgram());
    const api = apiSince(apiBefore, await apiRequests(transport));
    trueAt = trueAt.slice(0, count);
    const stepLines = lines.slice(fromLine).filter((l) => l.eventId !== undefined);
    const sum = (k: string) => stepLines.reduce((s, l) => s + Number(l.result?.[k] ?? 0), 0);
    const burstPeakMb = replicas.map((r) => (peakKb.get(r.pid) ?? 0) / 1024);
    // The settled cluster's tick.
    await new Promise((r) => setTimeout(r, 3_000));
    const mediaBefore = await mediaCalls(namespace);
    const apiBeforeTick = await apiRequests(transport);
    const settled = await tick();
    const apiTick = apiSince(apiBeforeTick, await apiRequests(transport));
    const mediaDuring = (await mediaCalls(namespace)) - mediaBefore;
    await new Promise((r) => setTimeout(r, 10_000));
    const step = {
      count, created: names.length, childrenMs: childrenAt - first, convergedMs: convergedAt - first, convergedP50Ms: trueAt[Math.floor(trueAt.length / 2)], repairTicks: ticks,
      deliveries, refused: lines.slice(fromLine).filter((l) => l.outcome === 'refused').length, events: stepLines.length, coalesced: stepLines.filter((l) => l.result?.['coalesced'] === true).length, reads: sum('reads'), writes: sum('writes'),
      cpu, api,
      burstPeakMb, restMb: replicas.map((r) => rssKb(r.pid) / 1024), hwmMb: await Promise.all(replicas.map(async (r) => (await memoryOf(r.pid)).hwmKb / 1024)),
      tick: { wallMs: settled.wallMs, apiEveryClient: apiTick, byFunction: settled.resync.map((l) => ({ fn: l.function, replica: l['replica'], streamers: l['streamers'], differing: l['differing'], lists: l['lists'], reads: l['reads'], writes: l['writes'], durationMs: l['durationMs'] })) },
      mediaDuring, load: loadavg().map((n) => n.toFixed(1)).join(' / '),
    };
    steps.push(step);
    progress(`${count}: ${JSON.stringify(step)}`);
  }
} finally {
  clearInterval(sampler);
  await tracker.close().catch(() => undefined);
  await cluster.stop();
}
process.stdout.write(`${JSON.stringify({ service: { ...service.env, containerConcurrency: service.containerConcurrency, replicas: replicaCount, limitMb: service.limitMb }, steps }, null, 2)}\n`);
