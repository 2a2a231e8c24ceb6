// Test setup shared by the status, push-config and probe-status tests: real Streamers and
// their real children in the shared control plane (kwok runs the Pod), a KubeClient per
// test, and fresh reads parsed exactly as the functions parse them.
import { Agent } from 'undici';
import { createKubeClient, type KubeClient, type KubeObject, type KubeTransport } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { childNames } from '../../lib/k8s/meta.ts';
import { reconcileChildren } from '../../lib/reconcile/children.ts';
import { Streamer, STREAMER_API_VERSION, STREAMER_KIND, type StreamerSpecInput } from '../../lib/schema/streamer.ts';
import type { Cluster } from '../cluster/index.ts';
import { waitFor } from '../cluster/wait.ts';

export type PodInfo = { name: string; uid: string; podIP: string };

/** An admin client (counts its own reads and writes) on the test cluster. */
export async function adminClient(cluster: Cluster, fieldManager = 'status-tests'): Promise<KubeClient> {
  return createKubeClient({ transport: await transportFromKubeconfig(cluster.kubeconfig), fieldManager });
}

/** A client that authenticates with `token` (e.g. a limited ServiceAccount's). */
export function tokenClient(cluster: Cluster, token: string, fieldManager = 'status-tests'): KubeClient {
  const transport: KubeTransport = {
    server: cluster.server,
    dispatcher: new Agent({ connect: { ca: cluster.caPem } }),
    headers: async () => ({ authorization: `Bearer ${token}` }),
  };
  return createKubeClient({ transport, fieldManager });
}

/** The Streamer as stored now, parsed like the function shell parses it. */
export async function readStreamer(kube: KubeClient, namespace: string, name: string): Promise<Streamer> {
  const object = await kube.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name });
  if (!object) throw new Error(`Streamer ${namespace}/${name} not found`);
  return Streamer.parse(object);
}

/** Creates a Streamer (nodeName stream-node so kwok runs its Pod) and returns it as stored. */
export async function createStreamer(
  kube: KubeClient,
  { namespace, name, spec = {} }: { namespace: string; name: string; spec?: Partial<StreamerSpecInput> },
): Promise<Streamer> {
  await kube.create({
    apiVersion: STREAMER_API_VERSION,
    kind: STREAMER_KIND,
    metadata: { name, namespace },
    spec: { version: 'v26.01-5', nodeName: 'stream-node', ...spec },
  } as KubeObject);
  return readStreamer(kube, namespace, name);
}

/** JSON merge patch on the Streamer's spec; returns the stored result. */
export async function patchSpec(kube: KubeClient, streamer: Streamer, spec: Record<string, unknown>): Promise<Streamer> {
  const { namespace, name } = streamer.metadata;
  await kube.patch({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name }, { spec });
  return readStreamer(kube, namespace, name);
}

/** Creates the children for real (reconcile-children's core) and waits for kwok to run the Pod. */
export async function startStreamerPod(kube: KubeClient, streamer: Streamer): Promise<PodInfo> {
  await reconcileChildren({ kube, streamer });
  return waitForRunningPod(kube, streamer);
}

/** Waits until `<name>-streamer-0` is Running with an IP and not terminating (optionally: a different UID). */
export function waitForRunningPod(kube: KubeClient, streamer: Streamer, { notUid }: { notUid?: string } = {}): Promise<PodInfo> {
  const name = childNames(streamer).pod;
  return waitFor(`Pod ${name} Running with an IP`, async () => {
    const pod = await kube.get<KubeObject & { status?: { phase?: string; podIP?: string } }>({ apiVersion: 'v1', kind: 'Pod', namespace: streamer.metadata.namespace, name });
    const uid = pod?.metadata.uid;
    const podIP = pod?.status?.podIP;
    if (!pod || pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running' || !podIP || !uid || uid === notUid) return undefined;
    return { name, uid, podIP };
  }, { timeoutMs: 60_000, intervalMs: 100 });
}

/** The value of a Secret key, decoded. */
export async function secretValue(kube: KubeClient, namespace: string, name: string, key: string): Promise<string> {
  const secret = await kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', namespace, name });
  const value = secret?.data?.[key];
  if (value === undefined) throw new Error(`Secret ${namespace}/${name} has no key ${key}`);
  return Buffer.from(value, 'base64').toString('utf8');
}

/** Events recorded about a Streamer (events.k8s.io/v1), oldest first; only those of `action` when given. */
export async function eventsAbout(kube: KubeClient, streamer: Streamer, action?: string): Promise<{ reason: string; type: string; note: string; action: string }[]> {
  const events = await kube.list<KubeObject & { reason: string; type: string; note: string; action: string; regarding?: { uid?: string }; eventTime?: string }>({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    namespace: streamer.metadata.namespace,
  });
  return events
    .filter((event) => event.regarding?.uid === streamer.metadata.uid && (action === undefined || event.action === action))
    .sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)))
    .map(({ reason, type, note, action }) => ({ reason, type, note, action }));
}
