// Many Streamers created at once through the sandbox's event path (real Knative: the
// ApiServerSource adapters, the Broker, the Triggers, the delivery proxy): when the last one has
// all seven children, when every delivery of the burst has been answered, and what each function
// did meanwhile (from its log lines).
import { trackChildren } from './children.ts';
import { readLines } from './function-logs.ts';
import { ms, summarize, type Summary } from './stats.ts';
import { BENCH_NODES, benchStreamer, createLicenseSecret, type BenchRun } from './streamers.ts';

const FUNCTIONS = ['reconcile-children', 'push-config', 'probe-status'] as const;
/** POSTs in flight while creating: "at once", without one TLS connection per Streamer. */
const CONCURRENCY = 50;
/**
 * First POST → every Streamer's children. On the loopback harness 200 took about 25 s; on real
 * Knative, beside another sealed cluster (load 6-8), 114 of 200 had theirs after 180 s (the old
 * bound), so the bound is 10 minutes, and the 15 s progress lines show a stall long before.
 */
const CONVERGE_TIMEOUT_MS = 600_000;

export type BurstFunction = { fn: string; events: number; coalesced: number; reads: number; writes: number; duration: Summary };

export async function floodCreates({ cluster, sandbox, kube, transport, count, progress }: BenchRun) {
  const namespace = await cluster.createNamespace('bench-flood');
  await createLicenseSecret(kube, namespace);
  const tracker = await trackChildren({ transport, namespace });
  const deliveriesBefore = sandbox.broker.deliveries.length;
  const startedAt = new Map<string, number>();
  const names = Array.from({ length: count }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
  const concurrency = CONCURRENCY;
  const logStart = new Date().toISOString();
  try {
    const first = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < names.length) {
          const index = next++;
          const name = names[index]!;
          startedAt.set(name, performance.now());
          await kube.create(benchStreamer({ name, namespace, nodeName: BENCH_NODES[1 + (index % (BENCH_NODES.length - 1))]! }));
        }
      }),
    );
    progress(`reconcile-children: ${count} created in ${ms(performance.now() - first)} ms; waiting for children`);
    // Every Streamer's children, bounded as a whole; a broken watch fails at once, and
    // every 15 s a line says how far it got (a stall shows which kinds are missing).
    const deadline = first + CONVERGE_TIMEOUT_MS;
    const ticker = setInterval(() => {
      const pending = names.filter((n) => tracker.childrenAt(n) === undefined);
      const missing = new Map<string, number>();
      for (const n of pending) for (const kind of tracker.missingKinds(n)) missing.set(kind, (missing.get(kind) ?? 0) + 1);
      progress(`reconcile-children: ${count - pending.length}/${count} have all children; missing ${[...missing].map(([k, n]) => `${k} ×${n}`).join(', ') || '–'}`);
    }, 15_000);
    const perStreamer: number[] = [];
    let last = 0;
    try {
      for (const name of names) {
        const done = await tracker.waitChildren(name, Math.max(1, deadline - performance.now()));
        perStreamer.push(done - startedAt.get(name)!);
        last = Math.max(last, done);
      }
    } finally {
      clearInterval(ticker);
    }
    const convergeMs = last - first;
    progress(`reconcile-children: burst watches: ${tracker.describe()}`);
    progress(`reconcile-children: converged in ${ms(convergeMs)} ms; waiting for the deliveries to drain`);
    // Quiet at the delivery proxy for 2 s: Knative's retries back off up to seconds.
    await sandbox.broker.idle(300_000, 2_000);
    const quietMs = performance.now() - first;
    const deliveries = sandbox.broker.deliveries.slice(deliveriesBefore);
    const byFunction: BurstFunction[] = [];
    for (const fn of FUNCTIONS) {
      const lines = (await readLines(sandbox.functionLogs(), fn)).filter((l) => l.time >= logStart && l.eventId !== undefined);
      byFunction.push({
        fn,
        events: lines.length,
        coalesced: lines.filter((l) => l.result?.coalesced === true).length,
        reads: lines.reduce((sum, l) => sum + Number(l.result?.reads ?? 0), 0),
        writes: lines.reduce((sum, l) => sum + Number(l.result?.writes ?? 0), 0),
        duration: summarize(lines.map((l) => l.durationMs ?? 0)),
      });
    }
    const sources = new Map<string, number>();
    for (const d of deliveries) {
      const key = `${d.trigger} ← ${d.kind ?? '?'} ${d.eventType.replace('dev.knative.apiserver.', '')}`;
      sources.set(key, (sources.get(key) ?? 0) + 1);
    }
    return {
      concurrency,
      convergeMs,
      quietMs,
      perStreamer: summarize(perStreamer),
      deliveries: deliveries.length,
      failed: deliveries.filter((d) => d.status === 'network-error' || d.status === 'pending' || d.status >= 300).length,
      deadLettered: deliveries.filter((d) => d.deadLettered).length,
      byFunction,
      topSources: [...sources].sort((a, b) => b[1] - a[1]).slice(0, 8),
    };
  } finally {
    await tracker.close();
  }
}
