// The media server Pod push-config talks to: `<name>-streamer-0`, controlled by the
// Streamer's StatefulSet (so credentials never go to a look-alike Pod), not terminating,
// Running with an IP. Readiness is not required: a server whose readiness fails (e.g. a
// broken config on disk) still serves its API, and a push may be exactly what fixes it.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { childNames } from '../k8s/meta.ts';
import type { Streamer } from '../schema/streamer.ts';

export type StreamerPod =
  | { kind: 'running'; name: string; uid: string; podIP: string }
  /** Not reachable yet (or any more); `message` says why. */
  | { kind: 'unavailable'; name: string; message: string };

type PodObject = KubeObject & { status?: { phase?: string; podIP?: string } };

/** Reads the Streamer's Pod and says whether its media server can be called. */
export async function findStreamerPod({ kube, streamer }: { kube: KubeClient; streamer: Streamer }): Promise<StreamerPod> {
  const name = childNames(streamer).pod;
  return streamerPodFrom(streamer, await kube.get<PodObject>({ apiVersion: 'v1', kind: 'Pod', namespace: streamer.metadata.namespace, name }));
}

/** Whether the media server of `pod` (as read or listed; null: none) can be called. Pure. */
export function streamerPodFrom(streamer: Streamer, pod: KubeObject | null): StreamerPod {
  const names = childNames(streamer);
  const name = names.pod;
  const unavailable = (message: string): StreamerPod => ({ kind: 'unavailable', name, message });
  if (!pod) return unavailable(`Pod ${name} does not exist yet`);
  const controlled = (pod.metadata.ownerReferences ?? []).some((r) => r.controller && r.kind === 'StatefulSet' && r.name === names.statefulSet);
  if (!controlled) return unavailable(`Pod ${name} is not controlled by StatefulSet ${names.statefulSet}`);
  if (pod.metadata.deletionTimestamp) return unavailable(`Pod ${name} is terminating`);
  const { phase = 'Pending', podIP } = (pod as PodObject).status ?? {};
  if (phase !== 'Running' || !podIP || !pod.metadata.uid) return unavailable(`Pod ${name} is ${phase}${podIP ? '' : ', without an IP yet'}`);
  return { kind: 'running', name, uid: pod.metadata.uid, podIP };
}
