// The shape every operator function shares: an event (or resync tick) names
// Streamers; for each, read it fresh, parse it once, and run the function's
// work with a Kubernetes client of its own (so reads and writes are counted
// per event). Functions differ only in `work`.
import { createKubeClient, type KubeClient, type KubeObject, type KubeTransport } from '../kube/client.ts';
import { makeEventHandler, runBounded, streamerGone, StreamerGoneError, TransientError, type EventLogLine } from '../events/index.ts';
import { planResync, type ResyncCheck } from './resync.ts';
import { Streamer, STREAMER_API_VERSION, STREAMER_KIND } from '../schema/streamer.ts';
import { StatusConflictError } from '../status/apply-status.ts';
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
  /**
   * Tells from lists alone which Streamers a resync tick must work on (see resync.ts). Without
   * one, a tick works on every Streamer.
   */
  resyncCheck?: ResyncCheck;
  /** Resync knobs (register.ts reads them from the environment). */
  resync?: ResyncSettings;
};

export type ResyncSettings = {
  /** Streamers worked on at once. @default 4 */
  concurrency?: number;
  /** List only in these namespaces (the namespaced install, STREAMER_NAMESPACES); absent: cluster-wide. */
  namespaces?: readonly string[];
  /**
   * No Streamer's work starts later than this after the tick began: the tick answers before
   * the Service's request timeout (60 s), so the Broker never retries a tick that is still
   * running. What is left is reported as a failure; the retry lists again and continues.
   * @default 40000
   */
  deadlineMs?: number;
  /** Items per list page. @default DEFAULT_PAGE_SIZE */
  pageSize?: number;
  /**
   * How long after an event source's adapter has rolled out the resync starts (the new adapter
   * lists what exists, then watches from there; what changed before its list is the resync's).
   * @default 5000
   */
  afterRolloutMs?: number;
};

/**
 * Runs of `work` for one event when its status writes keep finding the Streamer changed (another
 * replica or function wrote first); then the event is redelivered (StatusConflictError is
 * transient).
 */
const MAX_CONFLICT_RUNS = 4;

export function makeStreamerFunction(options: StreamerFunctionOptions) {
  const { name, transport, fieldManager, log } = options;
  const client = () => createKubeClient({ transport, fieldManager });

  /**
   * Runs `work` for one Streamer object as just read; returns what to add to the log line.
   * A status write that finds the Streamer changed since this read (StatusConflictError) means
   * the decision was made from a stale view: read the Streamer again and decide again.
   */
  async function runFor(kube: KubeClient, object: object, cause?: Cause): Promise<Record<string, unknown>> {
    let current: object = object;
    for (let run = 1; ; run++) {
      const parsed = Streamer.safeParse(current);
      if (!parsed.success) {
        // The CRD schema should make this impossible; retrying would not help, so report and move on.
        const meta = (current as KubeObject).metadata;
        log({ function: name, outcome: 'invalid-streamer', streamer: `${meta?.namespace}/${meta?.name}`, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
        return { invalid: true };
      }
      if (parsed.data.metadata.deletionTimestamp) return { deleting: true };
      try {
        // A re-run stands for the Streamer as it is now, not for the event's cause.
        const result = (await options.work({ kube, streamer: parsed.data, ...(cause && run === 1 ? { cause } : {}) })) ?? {};
        return run > 1 ? { ...result, conflicts: run - 1 } : result;
      } catch (error) {
        // The Streamer (or its namespace) may have gone while the work ran: then every write
        // fails, and a retry would too. That event is done.
        if (error instanceof StreamerGoneError) return { gone: error.reason };
        if (!(error instanceof StatusConflictError) || run >= MAX_CONFLICT_RUNS) {
          const gone = await streamerGone(kube, parsed.data).catch(() => null);
          if (gone) return { gone };
          throw error;
        }
        const { namespace, name: streamerName } = parsed.data.metadata;
        const fresh = await kube.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name: streamerName });
        if (!fresh) return { gone: true, conflicts: run };
        current = fresh;
      }
    }
  }

  const enqueue = createKeyedQueue();
  let tick: Promise<void> | undefined;

  async function runTick(): Promise<void> {
    const started = Date.now();
    const kube = client();
    const settings = options.resync ?? {};
    const plan = await planResync({
      kube,
      ...(options.resyncCheck ? { check: options.resyncCheck } : {}),
      ...(settings.pageSize ? { pageSize: settings.pageSize } : {}),
      ...(settings.namespaces?.length ? { namespaces: settings.namespaces } : {}),
    });
    for (const bad of plan.invalid) log({ function: name, outcome: 'invalid-streamer', streamer: `${bad.namespace}/${bad.name}`, issues: bad.issues });
    const summary = await runBounded(
      plan.differing,
      async (listed) => {
        const { namespace, name: streamerName } = listed.metadata;
        await enqueue(`${namespace}/${streamerName}`, async () => {
          // Re-read: the lists are a snapshot, and the work decides from the Streamer as it is now.
          const fresh = await kube.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name: streamerName });
          return fresh ? runFor(kube, fresh) : {};
        });
      },
      { concurrency: settings.concurrency ?? 4, deadline: started + (settings.deadlineMs ?? 40_000) },
    );
    log({
      function: name, outcome: 'resync', streamers: plan.streamers, differing: plan.differing.length, lists: plan.lists,
      ok: summary.ok, failed: summary.failed, skipped: summary.skipped, ...kube.stats(), durationMs: Date.now() - started,
    });
    if (summary.skipped > 0) {
      throw new TransientError(`resync reached its deadline with ${summary.skipped} of ${plan.differing.length} differing Streamers left; a retry continues`);
    }
    if (summary.failed > 0 && summary.ok === 0) {
      throw new TransientError(`resync failed for all ${summary.failed} differing Streamers`, { cause: summary.errors[0]?.error });
    }
  }

  const resyncOnce = () => {
    // One tick at a time per process: a tick arriving while one runs (the next ping, a
    // Broker retry) joins it instead of doing the same work again.
    tick ??= runTick().finally(() => {
      tick = undefined;
    });
    return tick;
  };

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
      }, { retried: true });
      // Coalesced: another event's run (already waiting) reads the current state and covers
      // this one; its delivery is retried if that run fails.
      return run.coalesced ? { coalesced: true } : run.value;
    },
    onResync: resyncOnce,
    async onSourceRollout() {
      await new Promise((resolve) => setTimeout(resolve, options.resync?.afterRolloutMs ?? 5_000));
      await resyncOnce();
    },
    log(line: EventLogLine) {
      log({ ...line });
    },
  });
}
