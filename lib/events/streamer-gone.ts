// Is the Streamer an event named still there to work for? Events are hints, and a Streamer (or
// its whole namespace) can go away while a function is working on it: then every write fails
// (404 for a deleted namespace or Streamer, 403 "being terminated" for content of a terminating
// namespace), and retrying the event would fail the same way until the Broker gives up. A
// function that hits a failure asks this; when the answer is "gone" the event is done.
import { STREAMER_API_VERSION, STREAMER_KIND } from '../schema/streamer.ts';

type Meta = { metadata: { uid?: string; deletionTimestamp?: string } };
type Reader = { get(key: { apiVersion: string; kind: string; namespace?: string; name: string }): Promise<object | null> };

/** Why a Streamer is gone. */
export type GoneReason = 'deleted' | 'replaced' | 'deleting' | 'namespace-deleted' | 'namespace-terminating';

/**
 * Reads the Streamer (and, with `namespace`, its Namespace) and says why the Streamer
 * `{ namespace, name, uid }` is gone, or null when it is still there: deleted, replaced by
 * another of the same name (a new uid), being deleted, or its namespace deleted or terminating.
 */
export async function streamerGone(
  reader: Reader,
  streamer: { metadata: { namespace: string; name: string; uid: string } },
  { namespace = true }: { namespace?: boolean } = {},
): Promise<GoneReason | null> {
  const { namespace: ns, name, uid } = streamer.metadata;
  const current = (await reader.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace: ns, name })) as Meta | null;
  if (!current) return 'deleted';
  if (current.metadata.uid !== uid) return 'replaced';
  if (current.metadata.deletionTimestamp) return 'deleting';
  if (!namespace) return null;
  const space = (await reader.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })) as (Meta & { status?: { phase?: string } }) | null;
  if (!space) return 'namespace-deleted';
  if (space.metadata.deletionTimestamp || space.status?.phase === 'Terminating') return 'namespace-terminating';
  return null;
}

/** Thrown to stop a reconcile whose Streamer went away mid-way; the event is then done, not retried. */
export class StreamerGoneError extends Error {
  override name = 'StreamerGoneError' as const;
  readonly code = 'STREAMER_GONE' as const;
  readonly reason: GoneReason;
  constructor(reason: GoneReason) {
    super(`the Streamer is gone (${reason}); nothing more is written for it`);
    this.reason = reason;
  }
}
