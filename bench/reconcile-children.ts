// reconcile-children through the full event path of the sandbox (real Knative Eventing in a
// sealed cluster: the ApiServerSource adapters → the Broker → the Triggers → the delivery proxy
// → the ksvc stand-in's replicas): create → all seven children latency next to the create →
// watch-event floor, the API requests one reconcile of an unchanged Streamer costs, and how long
// 200 Streamers created at once take to converge.
import { randomUUID } from 'node:crypto';
import type { KubeClient, KubeObject, KubeTransport } from '../lib/kube/client.ts';
import { reconcileChildren } from '../lib/reconcile/children.ts';
import type { KnativeSandbox } from '../test/sandbox/real-knative.ts';
import { apiServerEvent } from '../test/e2e/sandbox.ts';
import { readStreamer } from '../test/reconcile/helpers.ts';
import type { Cluster } from '../test/cluster/index.ts';
import { trackChildren } from './children.ts';
import { countingClient, type Tally } from './counting-client.ts';
import { lineOf, readLines } from './function-logs.ts';
import { renderTable } from './markdown.ts';
import { BENCH_NODES, benchStreamer, createLicenseSecret } from './streamers.ts';
import { median, met, ms, ratio, summarize } from './stats.ts';
import { floodCreates } from './burst.ts';

const FUNCTIONS = ['reconcile-children', 'push-config', 'probe-status'] as const;

export type ReconcileBenchOptions = {
  cluster: Cluster;
  sandbox: KnativeSandbox;
  kube: KubeClient;
  transport: KubeTransport;
  /** Sequential creates measured one at a time. */
  samples?: number;
  /** Streamers created at once. */
  flood?: number;
  progress?: (line: string) => void;
};

export async function benchReconcileChildren(options: ReconcileBenchOptions): Promise<{ markdown: string; verdict: string }> {
  const { cluster, sandbox, kube, transport, samples = 30, flood = 200, progress = () => undefined } = options;
  const sequential = await sequentialCreates({ cluster, sandbox, kube, transport, samples, progress });
  progress('reconcile-children: requests per event of an unchanged Streamer');
  const direct = await unchangedDirect(kube, sequential.namespace, sequential.names[0]!);
  const viaEvents = await unchangedViaEvents(sandbox, kube, sequential.namespace, sequential.names[0]!);
  progress(`reconcile-children: ${flood} Streamers at once`);
  const burst = await floodCreates({ cluster, sandbox, kube, transport, count: flood, progress });

  const floor = summarize(sequential.floorMs);
  const latency = summarize(sequential.latencyMs);
  const delivery = summarize(sequential.deliveryMs);
  const handler = summarize(sequential.handlerMs);
  const budget = 3 * floor.p50 + 50;
  const latencyOk = latency.p50 <= budget;
  const kinds = Object.keys(direct.tally.reads).length;
  const readsPerKindOk = Object.entries(direct.tally.reads).every(([verb, n]) => verb.startsWith('GET ') && n <= 1);
  const writesOk = direct.writes === 0 && viaEvents.every((v) => v.fn !== 'reconcile-children' || v.writes === 0);

  const latencyTable = renderTable({
    head: ['measure', 'n', 'p50 (ms)', 'p99 (ms)', 'min (ms)', 'max (ms)', 'p50 vs floor'],
    rows: [
      ['floor: Streamer create → its watch event (direct watch)', String(floor.n), ms(floor.p50), ms(floor.p99), ms(floor.min), ms(floor.max), '1.0×'],
      ['create → all seven children exist (event path)', String(latency.n), ms(latency.p50), ms(latency.p99), ms(latency.min), ms(latency.max), ratio(latency.p50, floor.p50)],
      ['… of which: create → reconcile-children starts on the `resource.add` (adapter, Broker, Trigger, proxy; log time, ±1 ms)', String(delivery.n), ms(delivery.p50), ms(delivery.p99), ms(delivery.min), ms(delivery.max), ratio(delivery.p50, floor.p50)],
      [`… of which: the \`resource.add\` handler (its durationMs, to its last request; ${median(sequential.addRequests)} API requests, children in three waves)`, String(handler.n), ms(handler.p50), ms(handler.p99), ms(handler.min), ms(handler.max), ratio(handler.p50, floor.p50)],
      [`${flood} at once: each Streamer's create → its children`, String(burst.perStreamer.n), ms(burst.perStreamer.p50), ms(burst.perStreamer.p99), ms(burst.perStreamer.min), ms(burst.perStreamer.max), '–'],
    ],
  });
  const burstTable = renderTable({
    head: ['measure', 'value'],
    rows: [
      [`${flood} Streamers created at once (${burst.concurrency} POSTs in flight): first POST → last Streamer's children`, `${ms(burst.convergeMs)} ms`],
      ['… → deliveries quiet (no request at the delivery proxy for 2 s: every event of the burst answered)', `${ms(burst.quietMs)} ms`],
      ['deliveries during the burst (all Triggers, seen at the delivery proxy)', `${burst.deliveries} (${(burst.deliveries / flood).toFixed(1)} per Streamer)`],
      ['deliveries that failed (non-2xx after retries) / dead-lettered', `${burst.failed} / ${burst.deadLettered}`],
    ],
  });
  const burstFunctions = renderTable({
    head: ['function', 'events handled', 'coalesced', 'reads', 'writes', 'reads / writes per Streamer', 'handler p50 (ms)', 'handler p99 (ms)'],
    rows: burst.byFunction.map((f) => [
      `\`${f.fn}\``, String(f.events), String(f.coalesced), String(f.reads), String(f.writes),
      `${(f.reads / flood).toFixed(1)} / ${(f.writes / flood).toFixed(1)}`, ms(f.duration.p50), ms(f.duration.p99),
    ]),
  });
  const burstSources = renderTable({
    head: ['Trigger ← event', 'deliveries', 'per Streamer'],
    rows: burst.topSources.map(([key, n]) => [key, String(n), (n / flood).toFixed(1)]),
  });
  const costTable = renderTable({
    head: ['call', 'reads', 'writes', 'by kind', 'handler time (ms)'],
    rows: [
      ['`reconcileChildren()` on an unchanged Streamer (counting client, median of 5)', String(direct.reads), String(direct.writes), tallyText(direct.tally), ms(direct.ms)],
      ...viaEvents.map((v) => [
        `\`${v.fn}\` function, one \`resource.update\` of the unchanged Streamer published to the Broker (its log line)`, String(v.reads), String(v.writes),
        `${v.skipped ? `skipped: ${v.skipped}; ` : ''}(+1 read of the Streamer by the event intake, not in the log count)`, ms(v.durationMs),
      ]),
    ],
  });
  const targets = renderTable({
    head: ['target', 'measured', 'result'],
    rows: [
      ['unchanged Streamer: ≤ 1 read per child kind, 0 writes', `${direct.reads} reads over ${kinds} kinds, ${direct.writes} writes`, met(readsPerKindOk && writesOk)],
      [`create → children p50 ≤ 3 × watch floor + 50 ms (= ${ms(budget)} ms)`, `${ms(latency.p50)} ms`, met(latencyOk)],
    ],
  });
  const markdown = [
    `Sequential creates: ${latency.n} Streamers, one at a time, each after the previous one's events settled. p99 is nearest-rank (with fewer than 100 samples, the largest).`,
    latencyTable,
    'Burst:',
    burstTable,
    'The burst by function (from their log lines; reads exclude the event intake\'s own read of the Streamer and of a child\'s owner):',
    burstFunctions,
    'The most frequent deliveries of the burst:',
    burstSources,
    'Cost of an unchanged Streamer:',
    costTable,
    'Targets:',
    targets,
  ].join('\n\n');
  const verdict = `create→children p50 ${ms(latency.p50)} ms vs budget ${ms(budget)} ms (${latencyOk ? 'met' : 'missed'}); unchanged cost ${direct.reads} reads/${direct.writes} writes (${readsPerKindOk && writesOk ? 'met' : 'missed'}); ${flood} at once converged in ${ms(burst.convergeMs)} ms`;
  return { markdown, verdict };
}

function tallyText(tally: Tally): string {
  return [...Object.entries(tally.reads), ...Object.entries(tally.writes)].map(([k, n]) => `${k} ×${n}`).join(', ') || '–';
}

async function sequentialCreates({ cluster, sandbox, kube, transport, samples, progress }: Required<Pick<ReconcileBenchOptions, 'cluster' | 'sandbox' | 'kube' | 'transport' | 'samples' | 'progress'>>) {
  const namespace = await cluster.createNamespace('bench-rc');
  await createLicenseSecret(kube, namespace);
  const tracker = await trackChildren({ transport, namespace });
  const latencyMs: number[] = [];
  const floorMs: number[] = [];
  const names: string[] = [];
  const startedWall = new Map<string, number>(); // epoch ms, to place the function's log lines
  try {
    for (let i = 0; i < samples; i++) {
      const name = `seq-${i}`;
      names.push(name);
      const nodeName = BENCH_NODES[1 + (i % (BENCH_NODES.length - 1))]!;
      const started = performance.now();
      startedWall.set(name, performance.timeOrigin + started);
      await kube.create(benchStreamer({ name, namespace, nodeName }));
      const done = await tracker.waitChildren(name, 30_000);
      latencyMs.push(done - started);
      floorMs.push(tracker.streamerSeenAt(name)! - started);
      // Let this Streamer's own follow-up events (children, Pod) finish before the next sample:
      // 1 s without a request at the delivery proxy.
      await sandbox.broker.idle(30_000, 1_000);
      if ((i + 1) % 10 === 0) progress(`reconcile-children: ${i + 1}/${samples} sequential creates`);
    }
  } finally {
    await tracker.close();
  }
  // Where the time goes: each Streamer's resource.add in reconcile-children's log says when the
  // handler finished (time, ms resolution) and how long it ran (durationMs).
  const deliveryMs: number[] = [];
  const handlerMs: number[] = [];
  const addRequests: number[] = [];
  const lines = await readLines(sandbox.functionLogs(), 'reconcile-children');
  for (const name of names) {
    const line = lines.find((l) => l.eventType === 'dev.knative.apiserver.resource.add' && l.streamer === `${namespace}/${name}`);
    if (!line || line.durationMs === undefined) continue;
    handlerMs.push(line.durationMs);
    addRequests.push(Number(line.result?.reads ?? 0) + Number(line.result?.writes ?? 0) + 1); // + the intake's Streamer read
    deliveryMs.push(Date.parse(line.time) - line.durationMs - startedWall.get(name)!);
  }
  return { namespace, names, latencyMs, floorMs, deliveryMs, handlerMs, addRequests };
}

/** reconcileChildren() itself, with a counting client, on a Streamer whose children are current. */
async function unchangedDirect(kube: KubeClient, namespace: string, name: string) {
  const runs: { tally: Tally; ms: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const streamer = await readStreamer(kube, namespace, name);
    const counted = countingClient(kube);
    const started = performance.now();
    await reconcileChildren({ kube: counted.kube, streamer, reportingInstance: 'bench' });
    runs.push({ tally: counted.tally, ms: performance.now() - started });
  }
  const last = runs[runs.length - 1]!.tally;
  const sum = (bucket: Record<string, number>) => Object.values(bucket).reduce((a, b) => a + b, 0);
  return { tally: last, reads: sum(last.reads), writes: sum(last.writes), ms: median(runs.map((r) => r.ms)) };
}

/**
 * One resource.update of the unchanged Streamer, published to the Broker from inside the sealed
 * network (the host never dials it): its Triggers deliver it to all three functions, and each
 * one's reads/writes come from its log line for that event id.
 */
async function unchangedViaEvents(sandbox: KnativeSandbox, kube: KubeClient, namespace: string, name: string) {
  const object = (await readStreamer(kube, namespace, name)) as unknown as KubeObject;
  const results: { fn: string; reads: number; writes: number; durationMs: number; skipped?: string }[] = [];
  const event = apiServerEvent('dev.knative.apiserver.resource.update', object, object, randomUUID());
  const { status, answer } = await sandbox.publish(event);
  if (status !== 202) throw new Error(`the Broker answered ${status} ${answer} to an unchanged Streamer's event`);
  for (const fn of FUNCTIONS) {
    const line = await lineOf(sandbox.functionLogs, fn, event.headers['ce-id']);
    if (line.status !== 204) throw new Error(`${fn} answered ${line.status} to an unchanged Streamer's event`);
    const skipped = typeof line.result?.skipped === 'string' ? line.result.skipped : undefined;
    results.push({ fn, reads: Number(line.result?.reads ?? Number.NaN), writes: Number(line.result?.writes ?? Number.NaN), durationMs: line.durationMs ?? Number.NaN, ...(skipped ? { skipped } : {}) });
  }
  return results;
}
