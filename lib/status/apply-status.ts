// Writes one function's part of a Streamer's status with server-side apply on the status
// subresource. The CRD's conditions list is a map keyed by type, so each field manager owns
// only the condition it sends: concurrent functions never overwrite each other's conditions.
//
// Several replicas of each function may work on the same Streamer at once (Knative scales the
// Service out; the in-process keyed queue orders only one replica's runs). So a status write is
// a compare-and-swap on the Streamer's resourceVersion: it lands only on the exact Streamer the
// decision was made from. A replica holding an older Streamer (an older generation, or a status
// another replica has since written) gets StatusConflictError, re-reads and decides again,
// instead of overwriting a newer outcome.
import type { KubeClient } from '../kube/client.ts';
import { isConflict } from '../kube/errors.ts';
import type { Condition } from '../schema/condition.ts';
import type { Streamer } from '../schema/streamer.ts';

/**
 * The Streamer changed since it was read (409 on the resourceVersion precondition): the
 * decision is stale. Re-read the Streamer and decide again. Transient for the Broker (a 409
 * cause), so an event whose re-reads keep losing is redelivered rather than dropped.
 */
export class StatusConflictError extends Error {
  override name = 'StatusConflictError' as const;
  readonly code = 'STATUS_CONFLICT' as const;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/**
 * Applies `{ conditions: [condition], ...fields }` to the Streamer's status as `fieldManager`,
 * forcing ownership of those fields. Send every field the manager owns each time: server-side
 * apply removes owned fields an apply leaves out.
 *
 * With `precondition` (the default), the apply carries the Streamer's resourceVersion as read:
 * the API server refuses it with 409 when anything in the Streamer (spec or any function's
 * status) changed since, which is thrown as StatusConflictError. A write that lands on a
 * Streamer recreated under the same name cannot happen then either (a new object has a new
 * resourceVersion).
 * @throws StatusConflictError on 409; KubeApiError / KubeNetworkError otherwise.
 */
export async function applyStatus({
  kube,
  streamer,
  fieldManager,
  condition,
  fields = {},
  precondition = true,
}: {
  kube: KubeClient;
  streamer: Streamer;
  fieldManager: string;
  condition: Condition;
  fields?: Record<string, unknown>;
  /** @default true: only onto the Streamer's resourceVersion as read. */
  precondition?: boolean;
}): Promise<void> {
  const { name, namespace, resourceVersion } = streamer.metadata;
  const metadata: Record<string, string> = { name, namespace };
  if (precondition && resourceVersion) metadata.resourceVersion = resourceVersion;
  try {
    await kube.apply(
      { apiVersion: streamer.apiVersion, kind: streamer.kind, metadata: metadata as { name: string }, status: { ...fields, conditions: [condition] } },
      { subresource: 'status', fieldManager, force: true },
    );
  } catch (error) {
    if (isConflict(error)) {
      throw new StatusConflictError(`Streamer ${namespace}/${name} changed since resourceVersion ${resourceVersion}; its status was not written`, { cause: error });
    }
    throw error;
  }
}
