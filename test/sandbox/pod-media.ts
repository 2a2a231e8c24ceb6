// The host side of the media doubles that run as the streamer Pods in the sealed cluster (see
// test/media-double/serve.ts): a test reads a double's saved config and requests, and sets its
// fault modes or takes it down, through files in the run dir keyed by the Pod's IP. The host
// only asks the API server for the IP; it never dials the sealed network.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../cluster/index.ts';
import { waitFor } from '../cluster/wait.ts';
import type { MediaDoubleFault, RecordedRequest } from '../media-double/index.ts';

export type PodMediaDouble = {
  readonly config: string;
  readonly received: RecordedRequest[];
  /** Applies a fault mode; resolves once the double has taken it. */
  setFault(fault: MediaDoubleFault | null): Promise<void>;
};

export type PodMediaServers = {
  /** The double serving a Pod, by namespace and name, once it has written its state. */
  get(namespace: string, pod: string): Promise<PodMediaDouble | undefined>;
  /** Takes a Pod's media server down (its address refuses connections) until `resume`. */
  pause(namespace: string, pod: string): Promise<void>;
  resume(namespace: string, pod: string): Promise<void>;
};

type State = { seq: number; down: boolean; config: string; received: RecordedRequest[] };

export function podMediaServers(cluster: Pick<Cluster, 'kubectl' | 'runDir'>): PodMediaServers {
  const dir = join(cluster.runDir, 'media');
  const read = (ip: string): State | undefined => {
    try {
      return JSON.parse(readFileSync(join(dir, `${ip}.json`), 'utf8')) as State;
    } catch {
      return undefined;
    }
  };
  const podIP = async (namespace: string, pod: string) => (await cluster.kubectl.ok(['get', 'pod', pod, '-n', namespace, '-o', 'jsonpath={.status.podIP}'])).trim();
  const control = new Map<string, { seq: number; fault: MediaDoubleFault | null; down: boolean }>();
  async function steer(ip: string, change: Partial<{ fault: MediaDoubleFault | null; down: boolean }>) {
    const previous = control.get(ip) ?? { seq: read(ip)?.seq ?? 0, fault: null, down: false };
    const next = { ...previous, ...change, seq: previous.seq + 1 };
    control.set(ip, next);
    const file = join(dir, `${ip}.control.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(next));
    renameSync(`${file}.tmp`, file);
    await waitFor(`the media double at ${ip} taking control ${next.seq}`, async () => (read(ip)?.seq === next.seq ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  }
  return {
    async get(namespace, pod) {
      const ip = await podIP(namespace, pod);
      if (!ip || !existsSync(join(dir, `${ip}.json`))) return undefined;
      return {
        get config() {
          return read(ip)?.config ?? '';
        },
        get received() {
          return read(ip)?.received ?? [];
        },
        setFault: (fault) => steer(ip, { fault }),
      };
    },
    pause: async (namespace, pod) => steer(await podIP(namespace, pod), { down: true }),
    resume: async (namespace, pod) => steer(await podIP(namespace, pod), { down: false }),
  };
}
