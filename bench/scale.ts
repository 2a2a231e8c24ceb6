// Scale (issue 15): many Streamers on many kwok nodes, through the sandbox's event path with
// three processes per function (knative/service.yaml max-scale).
// - at rest with 10 and 100 Streamers: each function process's RSS after a resync tick;
// - a burst: `count` Streamers created at once (50 creates in flight): time until every one has
//   its seven children and both conditions True; API requests and writes per Streamer (the
//   functions' own counts, from their log lines); each process's peak RSS (VmHWM);
// - a resync of the settled cluster: wall time, list requests, writes, media-server calls;
// - at rest with `count`: RSS after the resync, and requests per Streamer per idle hour with the
//   default schedule (knative/base/resync.yaml), from the measured tick.
import type { KubeClient, KubeObject } from '../lib/kube/client.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { waitFor } from '../test/cluster/wait.ts';
import type { Sandbox } from '../test/sandbox/operator.ts';
import { pingInterval, readManifests } from '../test/sandbox/sources.ts';
import { knativeDir } from '../test/sandbox/operator.ts';
import { trackChildren } from './children.ts';
import { readLines, type EventLine } from './function-logs.ts';
import { memoryOf } from './processes.ts';
import { ms } from './stats.ts';
import { benchStreamer, createLicenseSecret, type BenchRun } from './streamers.ts';

const FUNCTIONS = ['reconcile-children', 'push-config', 'probe-status'] as const;
const CREATE_CONCURRENCY = 50;
const CONVERGE_TIMEOUT_MS = 20 * 60_000;

/** Nodes of the scale cluster: the quickstart's own and 49 more. */
export const SCALE_NODES = ['stream-node', ...Array.from({ length: 49 }, (_, i) => `scale-node-${i + 1}`)];

type ProcessMemory = { name: string; rssMb: number; peakMb: number };

async function memory(sandbox: Sandbox): Promise<ProcessMemory[]> {
  return Promise.all(sandbox.functions.processes.map(async (p) => {
    const m = await memoryOf(p.pid);
    return { name: p.name, rssMb: m.rssKb / 1024, peakMb: m.hwmKb / 1024 };
  }));
}

/** Every log line of every replica of every function since `since` (ISO time). */
async function linesSince(sandbox: Sandbox, since: string): Promise<(EventLine & { replica: string })[]> {
  const out: (EventLine & { replica: string })[] = [];
  for (const p of sandbox.functions.processes) {
    for (const line of await readLines(sandbox.functions.logDir, p.name)) if (line.time >= since) out.push({ ...line, replica: p.name });
  }
  return out;
}

type StreamerView = KubeObject & { status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] } };

/**
 * Waits until every Streamer of `namespace` has both conditions True, and says when. Several
 * clusters share this machine's loopback range: a Pod whose address another process already
 * listens on gets no media-server double of ours (its Secret's password is not the one that
 * process checks), so it can only end StreamerConfigSaved False/Forbidden. Those are counted
 * apart (`unserved`), not waited for.
 */
async function allTrue(kube: KubeClient, sandbox: Sandbox, namespace: string, count: number, timeoutMs: number) {
  return waitFor(`${count} Streamers with both conditions True`, async () => {
    const items = await kube.list<StreamerView>({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace });
    const isTrue = (s: StreamerView, t: string) => s.status?.conditions?.some((c) => c.type === t && c.status === 'True');
    const done = items.filter((s) => isTrue(s, 'StreamerReady') && isTrue(s, 'StreamerConfigSaved'));
    const unserved = items.filter((s) => isTrue(s, 'StreamerReady') && !isTrue(s, 'StreamerConfigSaved') && !sandbox.media?.get(namespace, `${s.metadata.name}-streamer-0`));
    return done.length + unserved.length >= count ? { at: performance.now(), unserved: unserved.length } : undefined;
  }, { timeoutMs, intervalMs: 1_000 });
}

async function settle(sandbox: Sandbox): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const before = sandbox.broker.deliveries.length;
    await sandbox.broker.idle(120_000);
    await new Promise((r) => setTimeout(r, 2_000));
    if (sandbox.broker.deliveries.length === before) return;
  }
  throw new Error('the event flow never dried up');
}

/** Sends one tick and waits for each function's resync log line (from any replica). */
async function resyncTick(sandbox: Sandbox) {
  const since = new Date().toISOString();
  const started = performance.now();
  await sandbox.tick();
  const lines = await waitFor('a resync line from each function', async () => {
    const found = (await linesSince(sandbox, since)).filter((l) => l.outcome === 'resync');
    return FUNCTIONS.every((fn) => found.some((l) => l.function === fn)) ? found : undefined;
  }, { timeoutMs: 180_000, intervalMs: 100 });
  const wallMs = performance.now() - started;
  await sandbox.broker.idle(120_000);
  const num = (l: EventLine, k: string) => Number((l as unknown as Record<string, unknown>)[k] ?? 0);
  return {
    wallMs,
    byFunction: lines.map((l) => ({ fn: l.function, lists: num(l, 'lists'), reads: num(l, 'reads'), writes: num(l, 'writes'), differing: num(l, 'differing'), durationMs: num(l, 'durationMs') })),
  };
}

async function createMany(kube: KubeClient, namespace: string, names: string[], nodes: readonly string[]) {
  let next = 0;
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, async () => {
    while (next < names.length) {
      const index = next++;
      await kube.create(benchStreamer({ name: names[index]!, namespace, nodeName: nodes[1 + (index % (nodes.length - 1))]! }));
    }
  }));
}

const mediaCalls = (sandbox: Sandbox, namespace: string, names: string[]) =>
  names.reduce((n, name) => n + (sandbox.media?.get(namespace, `${name}-streamer-0`)?.received.length ?? 0), 0);

export async function benchScale({ cluster, sandbox, kube, transport, count, progress, heapSnapshotAt }: BenchRun & {
  /** Signals (SIGUSR2) each function's first process once this many Streamers have their children (they must run with --heapsnapshot-signal). */
  heapSnapshotAt?: number;
}) {
  const rest: { streamers: number; memory: ProcessMemory[] }[] = [];
  // At rest with 10 and 100 (one namespace, deleted before the burst).
  const small = await cluster.createNamespace('bench-rest');
  await createLicenseSecret(kube, small);
  let made = 0;
  // BENCH_SCALE_REST=0 skips these (e.g. to rerun only the burst).
  const restSizes = process.env.BENCH_SCALE_REST === '0' ? [] : [10, 100].filter((n) => n < count);
  for (const size of restSizes) {
    const names = Array.from({ length: size - made }, (_, i) => `rest-${String(made + i).padStart(4, '0')}`);
    await createMany(kube, small, names, SCALE_NODES);
    made = size;
    await allTrue(kube, sandbox, small, size, CONVERGE_TIMEOUT_MS);
    await settle(sandbox);
    await resyncTick(sandbox);
    rest.push({ streamers: size, memory: await memory(sandbox) });
    progress(`scale: at rest with ${size}: RSS ${rest.at(-1)!.memory.map((m) => m.rssMb.toFixed(0)).join(' / ')} MB`);
  }
  // Not waited for (the garbage collector takes minutes on a loaded machine): the burst's
  // numbers count its own namespace only; the resync lists what is left of these too.
  await cluster.kubectl.ok(['delete', 'namespace', small, '--wait=false']);
  await settle(sandbox);

  // The burst.
  const namespace = await cluster.createNamespace('bench-scale');
  await createLicenseSecret(kube, namespace);
  const names = Array.from({ length: count }, (_, i) => `scale-${String(i).padStart(4, '0')}`);
  const tracker = await trackChildren({ transport, namespace });
  const since = new Date().toISOString();
  const first = performance.now();
  let childrenMs = 0;
  try {
    await createMany(kube, namespace, names, SCALE_NODES);
    progress(`scale: ${count} created in ${ms(performance.now() - first)} ms`);
    const ticker = setInterval(() => progress(`scale: ${names.filter((n) => tracker.childrenAt(n) !== undefined).length}/${count} have all children`), 20_000);
    let snapshotTaken = heapSnapshotAt === undefined;
    const snapshots = setInterval(() => {
      if (snapshotTaken || names.filter((n) => tracker.childrenAt(n) !== undefined).length < heapSnapshotAt!) return;
      snapshotTaken = true;
      for (const fn of FUNCTIONS) {
        const target = sandbox.functions.processes.find((p) => p.name === fn);
        if (target) process.kill(target.pid, 'SIGUSR2');
      }
      progress('scale: heap snapshots requested');
    }, 200);
    try {
      let last = 0;
      for (const name of names) last = Math.max(last, await tracker.waitChildren(name, Math.max(1, first + CONVERGE_TIMEOUT_MS - performance.now())));
      childrenMs = last - first;
    } finally {
      clearInterval(ticker);
      clearInterval(snapshots);
    }
  } finally {
    await tracker.close();
  }
  const converged = await allTrue(kube, sandbox, namespace, count, Math.max(1, first + CONVERGE_TIMEOUT_MS - performance.now()));
  const convergeMs = converged.at - first;
  const unserved = converged.unserved;
  progress(`scale: children in ${ms(childrenMs)} ms, both conditions True in ${ms(convergeMs)} ms; draining`);
  await settle(sandbox);
  const quietMs = performance.now() - first;
  const burstLines = (await linesSince(sandbox, since)).filter((l) => l.eventId !== undefined);
  const burstMemory = await memory(sandbox);
  const perFunction = FUNCTIONS.map((fn) => {
    const lines = burstLines.filter((l) => l.function === fn);
    return {
      fn,
      events: lines.length,
      reads: lines.reduce((s, l) => s + Number(l.result?.reads ?? 0), 0),
      writes: lines.reduce((s, l) => s + Number(l.result?.writes ?? 0), 0),
      conflicts: lines.filter((l) => l.result?.['conflicts'] !== undefined).length,
      failed: lines.filter((l) => (l.status ?? 0) >= 300).length,
    };
  });

  // The resync of the settled cluster, and the idle cost.
  const mediaBefore = mediaCalls(sandbox, namespace, names);
  const tick = await resyncTick(sandbox);
  const mediaDuring = mediaCalls(sandbox, namespace, names) - mediaBefore;
  const idleBefore = sandbox.broker.deliveries.length;
  await new Promise((r) => setTimeout(r, 30_000));
  const idleDeliveries = sandbox.broker.deliveries.length - idleBefore;
  const atRest = await memory(sandbox);
  rest.push({ streamers: count, memory: atRest });
  const ping = pingInterval(await readManifests(knativeDir));
  const ticksPerHour = 3_600_000 / (ping?.intervalMs ?? 60_000);
  return { count, nodes: SCALE_NODES.length, childrenMs, convergeMs, unserved, quietMs, perFunction, burstMemory, tick, mediaDuring, idleDeliveries, rest, ticksPerHour };
}

const mb = (n: number) => n.toFixed(0);

export function scaleMarkdown(r: Awaited<ReturnType<typeof benchScale>>, limitMb: number): string {
  const sum = (k: 'reads' | 'writes') => r.perFunction.reduce((s, f) => s + f[k], 0);
  const tickRequests = r.tick.byFunction.reduce((s, f) => s + f.reads + f.writes, 0);
  const tickWrites = r.tick.byFunction.reduce((s, f) => s + f.writes, 0);
  const peak = Math.max(...r.burstMemory.map((m) => m.peakMb));
  const lines = [
    `${r.count} Streamers (the quickstart without hostPort) on ${r.nodes} kwok nodes, created ${CREATE_CONCURRENCY} at a time, through the sandbox with three processes per function (the Broker spreads deliveries across them) and a media-server double per Pod. One run.`,
    '',
    '| measure | value | target |',
    '| --- | --- | --- |',
    `| first create → every Streamer has its seven children | ${ms(r.childrenMs)} ms | – |`,
    `| first create → every Streamer has both conditions True${r.unserved ? ` (but ${r.unserved} whose Pod address another process on this machine held: no double of ours, StreamerConfigSaved False/Forbidden)` : ''} | ${ms(r.convergeMs)} ms | ≤ 60 000 ms: **${r.convergeMs <= 60_000 ? 'met' : 'missed'}** |`,
    `| first create → no event in flight for 2 s | ${ms(r.quietMs)} ms | – |`,
    `| API requests per Streamer during the burst (the functions' own) | ${((sum('reads') + sum('writes')) / r.count).toFixed(1)} (${(sum('reads') / r.count).toFixed(1)} reads, ${(sum('writes') / r.count).toFixed(1)} writes) | – |`,
    `| resync of ${r.count} settled: wall time (tick sent → last function's resync line) | ${ms(r.tick.wallMs)} ms | ≤ 10 000 ms: **${r.tick.wallMs <= 10_000 ? 'met' : 'missed'}** |`,
    `| resync: API requests, all three functions | ${tickRequests} | ≤ 20: **${tickRequests <= 20 ? 'met' : 'missed'}** |`,
    `| resync: writes | ${tickWrites} | 0: **${tickWrites === 0 ? 'met' : 'missed'}** |`,
    `| resync: media-server calls | ${r.mediaDuring} | 0: **${r.mediaDuring === 0 ? 'met' : 'missed'}** |`,
    `| events delivered in 30 s of idle after the resync | ${r.idleDeliveries} | – |`,
    `| API requests per Streamer per idle hour (${r.ticksPerHour} ticks, default schedule) | ${((tickRequests * r.ticksPerHour) / r.count).toFixed(3)} | – |`,
    `| peak RSS of a function process during the burst (max of ${r.burstMemory.length}) | ${mb(peak)} MB (${((peak / limitMb) * 100).toFixed(0)} % of the ${limitMb} Mi limit) | < 60 %: **${peak < 0.6 * limitMb ? 'met' : 'missed'}** |`,
    '',
    'Per function during the burst (all replicas):',
    '',
    '| function | events | reads | writes | events that re-read after a 409 | events answered ≥ 300 |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.perFunction.map((f) => `| ${f.fn} | ${f.events} | ${f.reads} | ${f.writes} | ${f.conflicts} | ${f.failed} |`),
    '',
    'The resync tick, per function:',
    '',
    '| function | lists | reads | writes | Streamers differing | duration (ms) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.tick.byFunction.map((f) => `| ${f.fn} | ${f.lists} | ${f.reads} | ${f.writes} | ${f.differing} | ${f.durationMs} |`),
    '',
    'RSS per function process (MB): at rest after a resync tick, and the peak during the burst:',
    '',
    `| process | ${r.rest.map((x) => `at rest, ${x.streamers}`).join(' | ')} | peak during the ${r.count} burst |`,
    `| --- | ${r.rest.map(() => '---').join(' | ')} | --- |`,
    ...r.burstMemory.map((m, i) => `| ${m.name} | ${r.rest.map((x) => mb(x.memory[i]?.rssMb ?? Number.NaN)).join(' | ')} | ${mb(m.peakMb)} |`),
  ];
  return lines.join('\n');
}
