// Writes one function's part of a Streamer's status with server-side apply on the status
// subresource. The CRD's conditions list is a map keyed by type, so each field manager owns
// only the condition it sends: concurrent functions never overwrite each other's conditions.
import type { KubeClient } from '../kube/client.ts';
import type { Condition } from '../schema/condition.ts';
import type { Streamer } from '../schema/streamer.ts';

/**
 * Applies `{ conditions: [condition], ...fields }` to the Streamer's status as `fieldManager`,
 * forcing ownership of those fields. Send every field the manager owns each time: server-side
 * apply removes owned fields an apply leaves out.
 *
 * No precondition: the status subresource ignores metadata (a uid is not checked there), and
 * a resourceVersion would make the two functions' concurrent writes conflict. A write that
 * lands on a Streamer recreated under the same name is corrected by that Streamer's own events.
 */
export async function applyStatus({
  kube,
  streamer,
  fieldManager,
  condition,
  fields = {},
}: {
  kube: KubeClient;
  streamer: Streamer;
  fieldManager: string;
  condition: Condition;
  fields?: Record<string, unknown>;
}): Promise<void> {
  await kube.apply(
    {
      apiVersion: streamer.apiVersion,
      kind: streamer.kind,
      metadata: { name: streamer.metadata.name, namespace: streamer.metadata.namespace },
      status: { ...fields, conditions: [condition] },
    },
    { subresource: 'status', fieldManager, force: true },
  );
}
