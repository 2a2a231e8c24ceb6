// The media-server double as one program serving many `flussonic/flussonic:*` Pods at once, for
// runs with more streamer Pods than this machine has memory for one process each (bench/
// replica.ts: a thousand). The process runner (test/cluster/kubelet.ts, a shared Program) runs
// it once in a host network namespace holding every such Pod's IP, and hands it each Pod as a
// file: SHARED_PODS_DIR/<pod uid>.json = { uid, name, ip, env, mounts: [{ source, target }] },
// deleted when the Pod goes. For each, a double starts as the Pod's own would (serve.ts): its
// edit_auth from the Pod's env, its config from the directory mounted at conf.d, listening on
// the API port at the Pod's IP. It answers each hand-over on stdout, one JSON line:
// { outcome: 'pod-serving' | 'pod-stopped' | 'pod-failed', uid }.
//
//   SHARED_PODS_DIR=<dir> [MEDIA_DOUBLE_STATE_DIR=<dir>] node test/media-double/serve-many.ts
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV } from '../../lib/k8s/env.ts';
import { CONFIG_DIR } from '../../lib/k8s/media-server-config.ts';
import { confD, startPodDouble, type PodDouble } from './pod-double.ts';

type HandedPod = { uid: string; name: string; ip: string; env: Record<string, string>; mounts: { source: string; target: string }[] };

const podsDir = process.env.SHARED_PODS_DIR;
if (!podsDir) {
  process.stderr.write('SHARED_PODS_DIR is not set\n');
  process.exit(1);
}
const stateDir = process.env.MEDIA_DOUBLE_STATE_DIR;
const answer = (outcome: string, uid: string, message?: string) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), outcome, uid, ...(message ? { message } : {}) })}\n`);

const serving = new Map<string, PodDouble>();
const failed = new Set<string>();

async function start(uid: string): Promise<void> {
  const pod = JSON.parse(await readFile(join(podsDir!, `${uid}.json`), 'utf8')) as HandedPod;
  const editAuth = pod.env[ENV.editAuth];
  if (!editAuth) throw new Error(`${ENV.editAuth} is not set`);
  const confDir = pod.mounts.find((m) => m.target === CONFIG_DIR)?.source;
  const initialConfig = confDir ? await confD(confDir) : '';
  serving.set(uid, await startPodDouble({ host: pod.ip, ip: pod.ip, editAuth, initialConfig, pod: pod.name, ...(stateDir ? { stateDir } : {}) }));
}

let busy = false;
async function sync(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    const handed = new Set((await readdir(podsDir!)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)));
    for (const [uid, double] of serving) {
      if (handed.has(uid)) continue;
      serving.delete(uid);
      await double.stop();
      answer('pod-stopped', uid);
    }
    for (const uid of failed) if (!handed.has(uid)) failed.delete(uid);
    for (const uid of handed) {
      if (serving.has(uid) || failed.has(uid)) continue;
      try {
        await start(uid);
        answer('pod-serving', uid);
      } catch (error) {
        failed.add(uid);
        answer('pod-failed', uid, (error as Error).message);
      }
    }
    for (const double of serving.values()) await double.sync();
  } finally {
    busy = false;
  }
}

const timer = setInterval(() => void sync().catch((error: Error) => process.stderr.write(`serve-many: ${error.message}\n`)), 100);
const stop = () => {
  clearInterval(timer);
  void Promise.all([...serving.values()].map((d) => d.stop())).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
