// The media server Pod push-config talks to: `<name>-streamer-0`, controlled by the
// Streamer's StatefulSet (so credentials never go to a look-alike Pod), not terminating,
// Running with an IP. Readiness is not required: a server whose readiness fails (e.g. a
// broken config on disk) still serves its API, and a push may be exactly what fixes it.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { childNames } from '../k8s/meta.ts';
import { CONTAINER_NAME } from '../k8s/stateful-set.ts';
import type { Streamer } from '../schema/streamer.ts';

export type StreamerPod =
  /**
   * `startedAt`: when the media container last started running (absent when the Pod does not
   * say); `startupPending`: its startup probe has not passed yet (containerStatuses[].started false).
   */
  | { kind: 'running'; name: string; uid: string; podIP: string; startedAt?: string; startupPending: boolean }
  /** Not reachable yet (or any more); `message` says why. */
  | { kind: 'unavailable'; name: string; message: string };

type ContainerStatus = { name?: string; started?: boolean; state?: { running?: { startedAt?: string } } };
type PodObject = KubeObject & { status?: { phase?: string; podIP?: string; containerStatuses?: ContainerStatus[] } };

/**
 * How long after its container started a media server that refuses connections counts as still
 * starting (its listener is not open yet) rather than down. On a real cluster the startup probe
 * (stateful-set.ts: from 2 s, every 2 s) usually says so first: `started` stays false until it passes.
 */
export const STARTING_GRACE_MS = 10_000;

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
  const { phase = 'Pending', podIP, containerStatuses = [] } = (pod as PodObject).status ?? {};
  if (phase !== 'Running' || !podIP || !pod.metadata.uid) return unavailable(`Pod ${name} is ${phase}${podIP ? '' : ', without an IP yet'}`);
  const container = containerStatuses.find((c) => c.name === CONTAINER_NAME) ?? containerStatuses[0];
  const startedAt = container?.state?.running?.startedAt;
  return { kind: 'running', name, uid: pod.metadata.uid, podIP, ...(startedAt ? { startedAt } : {}), startupPending: container?.started === false };
}

/**
 * Whether a media server that could not be reached is still starting: its startup probe has not
 * passed, or its container started less than STARTING_GRACE_MS before `now`. Every create and
 * every restart passes through this window, so it is progress, not a fault. Pure.
 */
export function isStarting(pod: Extract<StreamerPod, { kind: 'running' }>, now: Date): boolean {
  if (pod.startupPending) return true;
  const started = pod.startedAt ? Date.parse(pod.startedAt) : Number.NaN;
  return Number.isFinite(started) && now.getTime() - started < STARTING_GRACE_MS;
}
