// Stands in for the media server containers kwok does not run: for every
// Running streamer Pod with an IP, a test double listens on that IP and the
// API port, with the edit_auth the Pod's env gives it at start (read once, as
// the real server reads its env once). A replaced Pod gets a new double.
import { createKubeClient, type KubeObject, type KubeTransport } from '../../lib/kube/client.ts';
import { MANAGED_BY_LABEL } from '../../lib/k8s/meta.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { ENV } from '../../lib/k8s/env.ts';
import { startMediaDouble, type MediaDouble } from '../media-double/index.ts';

type PodObject = KubeObject & {
  spec?: { containers?: { env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }[] };
  status?: { phase?: string; podIP?: string };
};

export type MediaServers = {
  /** The double serving a Pod, by `namespace/name`, once it is up. */
  get(namespace: string, pod: string): MediaDouble | undefined;
  /** Takes a Pod's media server down (its address refuses connections) until `resume`. */
  pause(namespace: string, pod: string): Promise<void>;
  /** Brings it back: a fresh server on the same address with the same edit_auth. */
  resume(namespace: string, pod: string): Promise<void>;
  stop(): Promise<void>;
};

export async function startMediaServers({
  transport,
  intervalMs = 250,
  log = () => undefined,
}: {
  transport: KubeTransport;
  intervalMs?: number;
  log?: (fields: Record<string, unknown>) => void;
}): Promise<MediaServers> {
  const kube = createKubeClient({ transport, fieldManager: 'sandbox-media-servers' });
  const running = new Map<string, { key: string; double: MediaDouble; editAuth: string; paused?: boolean }>(); // by pod uid
  let stopped = false;

  async function editAuthOf(pod: PodObject): Promise<string | undefined> {
    const env = pod.spec?.containers?.[0]?.env ?? [];
    const entry = env.find((e) => e.name === ENV.editAuth);
    if (entry?.value) return entry.value;
    const ref = entry?.valueFrom?.secretKeyRef;
    if (!ref) return undefined;
    const secret = await kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', namespace: pod.metadata.namespace, name: ref.name });
    const value = secret?.data?.[ref.key];
    return value ? Buffer.from(value, 'base64').toString() : undefined;
  }

  async function sync(): Promise<void> {
    const pods = await kube.list<PodObject>({ apiVersion: 'v1', kind: 'Pod', labelSelector: `${MANAGED_BY_LABEL.key}=${MANAGED_BY_LABEL.value}` });
    const live = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? '';
      const ip = pod.status?.podIP;
      if (pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running' || !ip) continue;
      live.add(uid);
      if (running.has(uid)) continue;
      const editAuth = await editAuthOf(pod);
      if (!editAuth) continue; // the Secret is not there yet: like a container waiting on it
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      // A replaced Pod may get its predecessor's IP (or name) before the old one is gone.
      for (const [oldUid, entry] of running) {
        if (entry.key === key || entry.double.host === ip) {
          running.delete(oldUid);
          await entry.double.stop();
        }
      }
      let double: MediaDouble;
      try {
        double = await startMediaDouble({ host: ip, port: API_PORT, editAuth });
      } catch (error) {
        // One address taken (another cluster on this machine's loopback range) must not keep
        // the Pods after it from getting theirs; the next sync tries it again.
        log({ function: 'sandbox', outcome: 'media-server-failed', pod: key, error: (error as Error).message });
        continue;
      }
      running.set(uid, { key, double, editAuth });
      log({ function: 'sandbox', outcome: 'media-server-started', pod: key, url: double.url });
    }
    for (const [uid, entry] of running) {
      if (live.has(uid)) continue;
      running.delete(uid);
      await entry.double.stop();
      log({ function: 'sandbox', outcome: 'media-server-stopped', pod: entry.key });
    }
  }

  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    try {
      await sync();
    } catch (error) {
      log({ function: 'sandbox', outcome: 'media-servers-sync-failed', error: (error as Error).message });
    }
    if (!stopped) timer = setTimeout(loop, intervalMs);
  };
  await loop();

  return {
    get(namespace, pod) {
      for (const entry of running.values()) if (entry.key === `${namespace}/${pod}`) return entry.double;
      return undefined;
    },
    async pause(namespace, pod) {
      const entry = [...running.values()].find((e) => e.key === `${namespace}/${pod}`);
      if (!entry || entry.paused) return;
      entry.paused = true;
      await entry.double.stop();
    },
    async resume(namespace, pod) {
      const entry = [...running.values()].find((e) => e.key === `${namespace}/${pod}`);
      if (!entry?.paused) return;
      entry.double = await startMediaDouble({ host: entry.double.host, port: API_PORT, editAuth: entry.editAuth });
      entry.paused = false;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...running.values()].map((entry) => entry.double.stop()));
      running.clear();
    },
  };
}
