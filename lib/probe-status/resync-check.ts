// probe-status's resync check (lib/runtime/resync.ts): from the lists of StatefulSets and
// Pods, which Streamers' StreamerReady (or the other status fields probe-status owns) would
// change — the same readyStatus probeStatus uses. Keeps of each listed object only the fields
// readiness reads. A StatefulSet without its Pod always gets the work: only the work reads the
// namespace's Events (the controller's FailedCreate message).
import type { KubeObject } from '../kube/client.ts';
import { childNames } from '../k8s/meta.ts';
import { APPLIED_HASH_ANNOTATION } from '../reconcile/drift.ts';
import type { ResyncCheck } from '../runtime/resync.ts';
import { plannedCondition } from '../status/set-condition.ts';
import { controlledBy, readyStatus } from './probe-status.ts';

type Annotated = { metadata: KubeObject['metadata']; spec?: { replicas?: unknown }; status?: unknown };

/** The fields readiness.ts reads, nothing else (no pod spec, no managedFields). */
function trim(kind: string, live: KubeObject): KubeObject {
  const { name, namespace, uid, generation, labels, ownerReferences, deletionTimestamp, annotations } = live.metadata;
  const metadata: KubeObject['metadata'] = { name, namespace, uid, generation, labels, ownerReferences, deletionTimestamp };
  const applied = annotations?.[APPLIED_HASH_ANNOTATION];
  if (applied !== undefined) metadata.annotations = { [APPLIED_HASH_ANNOTATION]: applied };
  const object = live as Annotated;
  return { apiVersion: live.apiVersion, kind, metadata, ...(kind === 'StatefulSet' ? { spec: { replicas: object.spec?.replicas } } : {}), status: object.status };
}

export const probeResyncCheck: ResyncCheck<KubeObject> = {
  kinds: [
    { apiVersion: 'apps/v1', kind: 'StatefulSet', nameOf: (s) => childNames(s).statefulSet },
    { apiVersion: 'v1', kind: 'Pod', nameOf: (s) => childNames(s).pod },
  ],
  keep: (_streamer, kind, live) => trim(kind, live),
  differs(streamer, kept) {
    const set = kept.StatefulSet;
    const pod = kept.Pod && controlledBy(kept.Pod, childNames(streamer).statefulSet) ? kept.Pod : null;
    if (set && pod === null) return true;
    const { input, fields } = readyStatus({ streamer, read: set ? { kind: 'found', statefulSet: set } : { kind: 'missing' }, pod });
    return plannedCondition({ streamer, input, fields }).changed;
  },
};
