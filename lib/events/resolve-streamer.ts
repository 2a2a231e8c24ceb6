// Which Streamer an event concerns. Events are hints (at-least-once, unordered, stale, lost), so
// the answer rests on the API server's current state: the Streamer must exist now, and a
// child's owner is read from the current child unless the event carried the object.
import { STREAMER_API_VERSION, STREAMER_KIND } from '../schema/streamer.ts';
import { streamerNameFromChild } from './child-names.ts';
import type { ObjectRef } from './event-types.ts';
import { controllerOf, isStatefulSetRef, isStreamerRef } from './owners.ts';

/** Coordinates of a namespaced object to read. */
export type ObjectKey = { apiVersion: string; kind: string; namespace: string; name: string };

/**
 * Reads the current object, or null when it does not exist (404). Other failures throw (and
 * are classified by isTransient). lib/kube's KubeClient satisfies this interface.
 */
export type ObjectReader = { get(key: ObjectKey): Promise<object | null> };

/** The Streamer an event maps to, with the object as just read from the API server. */
export type StreamerTarget = { namespace: string; name: string; streamer: object };

/**
 * Maps an event's object to its Streamer, or null when the object is unrelated (no Streamer
 * controller) or the Streamer does not exist (any more).
 *
 * - A Streamer maps to itself.
 * - Any other object maps through its controller owner reference (`controller: true`, group
 *   media.flussonic.com, kind Streamer, any version). The reference comes from `object` when the
 *   event carried it (Resource mode, including deletes: owner references never change), else
 *   from the current object read from the API server.
 * - A Pod (or anything else controlled by a StatefulSet) maps through its StatefulSet's owner.
 * - When the object is gone and the event did not carry it (Reference-mode delete), the child
 *   naming convention (`<streamer>-config`, `<streamer>-streamer-0`, ...) names the candidate.
 *
 * The Streamer itself is always read (as STREAMER_API_VERSION) before it is returned.
 */
export async function resolveStreamer(
  subject: { ref: ObjectRef; object?: unknown },
  reader: ObjectReader,
): Promise<StreamerTarget | null> {
  const { namespace } = subject.ref;
  const name = await candidateName(subject.ref, subject.object, reader, true);
  if (name === null) return null;
  const streamer = await reader.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name });
  return streamer ? { namespace, name, streamer } : null;
}

async function candidateName(
  ref: ObjectRef,
  object: unknown,
  reader: ObjectReader,
  mayFollowStatefulSet: boolean,
): Promise<string | null> {
  if (isStreamerRef(ref)) return ref.name;
  const current = object ?? (await reader.get(ref));
  if (!current) return streamerNameFromChild(ref);
  const owner = controllerOf(current);
  if (!owner) return null;
  if (isStreamerRef(owner)) return owner.name;
  if (mayFollowStatefulSet && isStatefulSetRef(owner)) {
    const statefulSet = { apiVersion: owner.apiVersion, kind: owner.kind, namespace: ref.namespace, name: owner.name };
    return candidateName(statefulSet, undefined, reader, false);
  }
  return null;
}
