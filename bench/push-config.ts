// push-config through the full event path of the sandbox (real Knative Eventing in a sealed
// cluster): a configExtra edit (merge patch of the Streamer) → the media-server double running as
// the streamer Pod receives the PUT /config with the new text (seen in the state file the double
// writes, test/sandbox/pod-media.ts: every 100 ms on the shared media-double host the bench runs,
// test/media-double/serve-many.ts), and → StreamerConfigSaved is True with the edit's
// generation as observedGeneration. Next to the floor: the same edit → its watch event, read from
// a direct watch in the same run.
import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject, KubeTransport } from '../lib/kube/client.ts';
import { STREAMER_API_VERSION, STREAMER_KIND } from '../lib/schema/streamer.ts';
import { ConditionType } from '../lib/status/condition-types.ts';
import { waitFor } from '../test/cluster/wait.ts';
import type { Cluster } from '../test/cluster/index.ts';
import type { KnativeSandbox } from '../test/sandbox/real-knative.ts';
import { trackChildren } from './children.ts';
import { renderTable } from './markdown.ts';
import { BENCH_NODES, benchStreamer, createLicenseSecret } from './streamers.ts';
import { ms, ratio, summarize } from './stats.ts';
import type { WatchEvent } from './watch.ts';

type StreamerView = KubeObject & {
  status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] };
};

/** The event's Streamer has StreamerConfigSaved True for `generation`. */
function savedFor(event: WatchEvent, generation: number): boolean {
  const streamer = event.object as StreamerView;
  const condition = streamer.status?.conditions?.find((c) => c.type === ConditionType.configSaved);
  return condition?.status === 'True' && condition.observedGeneration === generation && streamer.metadata.generation === generation;
}

export async function benchPushConfig({
  cluster,
  sandbox,
  kube,
  transport,
  samples = 20,
  progress = () => undefined,
}: {
  cluster: Cluster;
  sandbox: KnativeSandbox;
  kube: KubeClient;
  transport: KubeTransport;
  samples?: number;
  progress?: (line: string) => void;
}): Promise<{ markdown: string; verdict: string }> {
  const namespace = await cluster.createNamespace('bench-pc');
  await createLicenseSecret(kube, namespace);
  const tracker = await trackChildren({ transport, namespace });
  const name = 'pc';
  const pod = `${name}-streamer-0`;
  const key = { apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name };
  const floorMs: number[] = [];
  const putMs: number[] = [];
  const conditionMs: number[] = [];
  try {
    const created = await kube.create(benchStreamer({ name, namespace, nodeName: BENCH_NODES[1] }));
    const firstGeneration = created.metadata.generation ?? 1;
    await tracker.waitWatched('the first config saved', () => (tracker.streamerEvents.some((e) => savedFor(e, firstGeneration)) ? true : undefined), { timeoutMs: 90_000, intervalMs: 20 });
    // The Pod keeps its IP across hot edits, so its double is looked up once.
    const double = await waitFor(`the media double of ${pod}`, () => sandbox.media.get(namespace, pod), { timeoutMs: 30_000, intervalMs: 250 });
    await sandbox.broker.idle(30_000, 1_000);

    for (let i = 0; i < samples; i++) {
      const marker = `bench${i}x${randomBytes(3).toString('hex')}`;
      const text = `stream ${marker} {\n  input fake://fake;\n}\n`;
      const seen = tracker.streamerEvents.length;
      const started = performance.now();
      const patched = await kube.patch(key, { spec: { configExtra: { 'bench.conf': text } } });
      const generation = patched.metadata.generation!;
      const putAt = await waitFor(`PUT /config with ${marker}`, async () =>
        (double.received.some((r) => r.method === 'PUT' && r.body.includes(marker)) ? performance.now() : undefined), { timeoutMs: 30_000, intervalMs: 2 });
      const savedAt = await tracker.waitWatched(`StreamerConfigSaved True for generation ${generation}`, () =>
        tracker.streamerEvents.slice(seen).find((e) => savedFor(e, generation))?.at, { timeoutMs: 30_000, intervalMs: 5 });
      const edit = tracker.streamerEvents.slice(seen).find((e) => e.type === 'MODIFIED' && e.object.metadata.generation === generation);
      floorMs.push(edit!.at - started);
      putMs.push(putAt - started);
      conditionMs.push(savedAt - started);
      await sandbox.broker.idle(30_000, 1_000);
      if ((i + 1) % 10 === 0) progress(`push-config: ${i + 1}/${samples} edits`);
    }
  } finally {
    await tracker.close();
  }
  const floor = summarize(floorMs);
  const put = summarize(putMs);
  const condition = summarize(conditionMs);
  const row = (label: string, s: ReturnType<typeof summarize>) => [label, String(s.n), ms(s.p50), ms(s.p99), ms(s.min), ms(s.max), ratio(s.p50, floor.p50)];
  const table = renderTable({
    head: ['measure', 'n', 'p50 (ms)', 'p99 (ms)', 'min (ms)', 'max (ms)', 'p50 vs floor'],
    rows: [
      row('floor: configExtra patch → its watch event (direct watch)', floor),
      row('patch → the media server receives PUT /config with the new text', put),
      row('patch → StreamerConfigSaved True with the new observedGeneration (watch event)', condition),
    ],
  });
  const markdown = `${samples} edits of one Streamer's \`configExtra\` (API merge patch), one at a time, each after the previous one's events settled (1 s without a request at the delivery proxy). The PUT is seen in the state file the double writes (every 100 ms on the shared media-double host), so that row reads up to about 100 ms late (more while that host serves many Pods). p99 is nearest-rank (the largest sample here).\n\n${table}`;
  const verdict = `edit→PUT p50 ${ms(put.p50)} ms, edit→condition p50 ${ms(condition.p50)} ms (watch floor ${ms(floor.p50)} ms)`;
  return { markdown, verdict };
}
