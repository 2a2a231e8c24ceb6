// Names, labels, selector and owner reference shared by every child of a Streamer, so the
// StatefulSet's serviceName, the Service's selector and the pod template labels cannot drift.
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { STREAMER_API_VERSION, STREAMER_KIND, type Streamer } from '../schema/streamer.ts';

/** Names of the objects the operator creates for one Streamer (the spec's "Created resources"). */
export type ChildNames = {
  statefulSet: string;
  /** The single Pod of the StatefulSet (ordinal 0). */
  pod: string;
  headlessService: string;
  configMap: string;
  licenseStorageSecret: string;
  serviceAccount: string;
  role: string;
  roleBinding: string;
};

export function childNames(streamer: Streamer): ChildNames {
  const name = streamer.metadata.name;
  return {
    statefulSet: `${name}-streamer`,
    pod: `${name}-streamer-0`,
    headlessService: `${name}-headless`,
    configMap: `${name}-config`,
    licenseStorageSecret: `${name}-license-storage`,
    serviceAccount: `${name}-sa`,
    role: `${name}-role`,
    roleBinding: `${name}-rb`,
  };
}

/**
 * The label every child carries, so an ApiServerSource can watch only the operator's objects:
 * `resources: [{ kind: StatefulSet, selector: { matchLabels: { [key]: value } } }]`.
 */
export const MANAGED_BY_LABEL = { key: 'app.kubernetes.io/managed-by', value: 'streamer-operator' } as const;

/** The label that names the owning Streamer on every child and on the Pod. */
export const INSTANCE_LABEL_KEY = 'app.kubernetes.io/instance';

/** Standard `app.kubernetes.io/*` labels of every child and of the streamer Pod. */
export function standardLabels(streamer: Streamer): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'flussonic',
    [INSTANCE_LABEL_KEY]: streamer.metadata.name,
    // The spec's Ingress example selects streamer Pods by this label.
    'app.kubernetes.io/component': 'streamer',
    'app.kubernetes.io/part-of': 'flussonic-media-server',
    [MANAGED_BY_LABEL.key]: MANAGED_BY_LABEL.value,
  };
}

/**
 * The StatefulSet and Service selector: `spec.selectorLabels` when set, else name + instance.
 * A StatefulSet selector is immutable, so the default uses only labels that never change for a
 * given Streamer (not `spec.labels`, unlike upstream, which would make pod labels unchangeable).
 */
export function selectorLabels(streamer: Streamer): Record<string, string> {
  const custom = streamer.spec.selectorLabels;
  if (custom && Object.keys(custom).length > 0) return { ...custom };
  return {
    'app.kubernetes.io/name': 'flussonic',
    [INSTANCE_LABEL_KEY]: streamer.metadata.name,
  };
}

/** Labels of the pod template: the standard labels plus the selector (the selector wins). */
export function podTemplateLabels(streamer: Streamer): Record<string, string> {
  return { ...standardLabels(streamer), ...selectorLabels(streamer) };
}

/** A controller reference to the Streamer: Kubernetes GC deletes the child with it. */
export function ownerReference(streamer: Streamer): V1OwnerReference {
  return {
    apiVersion: STREAMER_API_VERSION,
    kind: STREAMER_KIND,
    name: streamer.metadata.name,
    uid: streamer.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of a child named `name`: namespace, standard labels, owner reference. */
export function childMetadata(streamer: Streamer, name: string): V1ObjectMeta {
  return {
    name,
    namespace: streamer.metadata.namespace,
    labels: standardLabels(streamer),
    ownerReferences: [ownerReference(streamer)],
  };
}
