// Which Kubernetes failures are permanent: the same request would be refused again until
// someone changes the Streamer (or the object in the way), so retrying the event is a hot loop
// that ends in a dead letter. Such a failure is recorded on the Streamer and the event is
// answered 2xx; the next edit or resync tries again.
//
// Contract shared with the other modules: an error is permanent when it is a KubeApiError with
// one of PERMANENT_STATUSES (or server-side apply's 500 for an object that cannot form a typed
// patch), or when it carries `permanent === true` (e.g. reconcile's
// ChildConflictError for a child name someone else's object holds). Causes are looked through.
import { KubeApiError } from './errors.ts';

/** Bad request, forbidden, not found, conflict, invalid: answers a retry cannot change. */
export const PERMANENT_STATUSES: readonly number[] = [400, 403, 404, 409, 422];

export function isPermanent(error: unknown): boolean {
  return permanentCause(error) !== undefined;
}

/**
 * Server-side apply answers 500 when the object cannot be turned into a typed patch at all,
 * e.g. a list keyed by name holding one name twice ("failed to create typed patch object ...
 * duplicate entries for key [name=...]"). The same object fails the same way every time.
 */
function isTypedPatchError(error: KubeApiError): boolean {
  return error.statusCode === 500 && error.serverMessage.startsWith('failed to create typed patch object');
}

/** The error in `error`'s cause chain that makes it permanent, or undefined. */
export function permanentCause(error: unknown): Error | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if ((current as { permanent?: unknown }).permanent === true) return current;
    if (current instanceof KubeApiError) return PERMANENT_STATUSES.includes(current.statusCode) || isTypedPatchError(current) ? current : undefined;
    current = current.cause;
  }
  return undefined;
}
