// Labels and annotations of the running streamer Pod that change without a restart.
//
// Why not in the pod template: any change to a StatefulSet's pod template rolls the Pod, i.e.
// restarts the media server. `spec.labels`, `spec.annotations` and `publicUrl` are hot fields
// (spec-changes.ts), so the template never carries them; reconcile-children patches the result
// of `buildPodMetadata` onto the live Pod `<name>-streamer-0` instead. The template keeps only
// what cannot change without a restart anyway: its selector/standard labels and the
// api-endpoint/private-payload annotations (see `endpointAnnotations`), so a new Pod has those
// from its first second.
import type { V1Pod } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { apiEndpoint } from './endpoints.ts';
import { childNames, podTemplateLabels } from './meta.ts';

export const POD_ANNOTATIONS = {
  apiEndpoint: 'streamer.flussonic.com/api-endpoint',
  privatePayload: 'streamer.flussonic.com/private-payload',
  publicPayload: 'streamer.flussonic.com/public-payload',
} as const;

/**
 * The discovery annotations fixed by namespace, name and ports. `private-payload` equals
 * `api-endpoint` ("usually the same as api-endpoint", the spec): the API listener on 81 serves
 * streams too, while the payload listener is the one exposed on the host.
 */
export function endpointAnnotations(streamer: Streamer): Record<string, string> {
  const url = apiEndpoint(streamer);
  return { [POD_ANNOTATIONS.apiEndpoint]: url, [POD_ANNOTATIONS.privatePayload]: url };
}

/**
 * The metadata to server-side apply onto the existing Pod `<name>-streamer-0` (metadata only:
 * apply it to a Pod that exists, never use it to create one; no ownerReferences, the Pod
 * belongs to its StatefulSet):
 * - labels: `spec.labels`, then the template labels, which win so a user label can never move
 *   the Pod out of its StatefulSet's selector;
 * - annotations: `spec.annotations`, then api-endpoint, private-payload and, only when
 *   `publicUrl` is set, public-payload (the operator's keys win).
 * Applied with a dedicated field manager, so a label or annotation removed from the spec is
 * removed from the Pod by the next apply.
 */
export function buildPodMetadata(streamer: Streamer): V1Pod {
  const { spec } = streamer;
  const annotations: Record<string, string> = { ...spec.annotations, ...endpointAnnotations(streamer) };
  if (spec.publicUrl) annotations[POD_ANNOTATIONS.publicPayload] = spec.publicUrl;
  else delete annotations[POD_ANNOTATIONS.publicPayload];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: childNames(streamer).pod,
      namespace: streamer.metadata.namespace,
      labels: { ...spec.labels, ...podTemplateLabels(streamer) },
      annotations,
    },
  };
}
