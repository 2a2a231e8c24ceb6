// The shape every operator function shares: an event (or resync tick) names
// Streamers; for each, read it fresh, parse it once, and run the function's
// work with a Kubernetes client of its own (so reads and writes are counted
// per event). Functions differ only in `work`.
import { createKubeClient, type KubeClient, type KubeObject, type KubeTransport } from '../kube/client.ts';
import { makeEventHandler, runBounded, streamerGone, StreamerGoneError, TransientError, type EventLogLine } from '../events/index.ts';
import { Streamer, STREAMER_API_VERSION, STREAMER_KIND } from '../schema/streamer.ts';
import { createKeyedQueue } from './keyed-queue.ts';
import type { Logger } from './log.ts';

/** What woke the function: the object an event was about (none for a resync tick). */
export type Cause = { kind: string; action: string };

export type WorkContext = { kube: KubeClient; streamer: Streamer; cause?: Cause };

export type StreamerFunctionOptions = {
  /** Function name: the functions-framework target and the log's `function` field. */
  name: string;
  transport: KubeTransport;
  fieldManager: string;
  log: Logger;
  /** What the function does for one Streamer, from its current state. Throw to be retried. */
  work(context: WorkContext): Promise<Record<string, unknown> | void>;
  /** Resync fan-out: Streamers handled at once, and the random delay before each. */
  resync?: { concurrency?: number; jitterMs?: number };
};

export function makeStreamerFunction(options: StreamerFunctionOptions) {
  const { name, transport, fieldManager, log } = options;
  const client = () => createKubeClient({ transport, fieldManager });

  /** Runs `work` for one Streamer object as just read; returns what to add to the log line. */
  async function runFor(kube: KubeClient, object: object, cause?: Cause): Promise<Record<string, unknown>> {
    const parsed = Streamer.safeParse(object);
    if (!parsed.success) {
      // The CRD schema should make this impossible; retrying would not help, so report and move on.
      const meta = (object as KubeObject).metadata;
      log({ function: name, outcome: 'invalid-streamer', streamer: `${meta?.namespace}/${meta?.name}`, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      return { invalid: true };
    }
    if (parsed.data.metadata.deletionTimestamp) return { deleting: true };
    try {
      return (await options.work({ kube, streamer: parsed.data, ...(cause ? { cause } : {}) })) ?? {};
    } catch (error) {
      // The Streamer (or its namespace) may have gone while the work ran: then every write
      // fails, and a retry would too. That event is done; anything else is thrown (retried).
      if (error instanceof StreamerGoneError) return { gone: error.reason };
      const gone = await streamerGone(kube, parsed.data).catch(() => null);
      if (gone) return { gone };
      throw error;
    }
  }

  const enqueue = createKeyedQueue();
  return makeEventHandler({
    name,
    reader: client(),
    async onObject(target, event) {
      const run = await enqueue(`${target.namespace}/${target.name}`, async (waited) => {
        const kube = client();
        // A run that waited behind another re-reads: the Streamer it was handed may be stale.
        const streamer = waited
          ? await kube.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace: target.namespace, name: target.name })
          : target.streamer;
        // A run that waited may stand for several events: only a run of its own keeps its cause.
        const cause = waited ? undefined : { kind: event.ref.kind, action: event.action };
        const result = streamer ? await runFor(kube, streamer, cause) : { gone: true };
        // Reads and writes go into the log line ("an unchanged Streamer costs zero writes").
        return { ...result, ...kube.stats() };
      });
      return run.coalesced ? { coalesced: true } : run.value;
    },
    async onResync() {
      const kube = client();
      const streamers = await kube.list({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND });
      const summary = await runBounded(
        streamers,
        async (listed) => {
          const { namespace, name: streamerName } = listed.metadata;
          await enqueue(`${namespace}/${streamerName}`, async () => {
            // Re-read: the list may be seconds old by the time this item's turn comes.
            const fresh = await kube.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name: streamerName });
            return fresh ? runFor(kube, fresh) : {};
          });
        },
        { concurrency: options.resync?.concurrency ?? 4, jitterMs: options.resync?.jitterMs ?? 2_000 },
      );
      log({ function: name, outcome: 'resync', streamers: streamers.length, ok: summary.ok, failed: summary.failed, ...kube.stats() });
      if (summary.failed > 0 && summary.ok === 0) {
        throw new TransientError(`resync failed for all ${summary.failed} Streamers`, { cause: summary.errors[0]?.error });
      }
    },
    log(line: EventLogLine) {
      log({ ...line });
    },
  });
}
