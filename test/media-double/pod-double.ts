// One media-server double as a streamer Pod's program serves it in the sealed cluster: it starts
// as the real server starts, with the Pod's edit_auth and the config of every file of its conf.d
// directory (the mounted ConfigMap), read once; it listens on the API port at `host`.
//
// With a state dir (the sealed test cluster sets MEDIA_DOUBLE_STATE_DIR to a dir in its run
// dir), the tests on the host see and steer the double through files, never through the sealed
// network: it writes <dir>/<pod IP>.json (saved config, every request received, whether it is
// down) and applies <dir>/<pod IP>.control.json ({ seq, fault, down }: a fault mode, or the
// server down — its listener closed — until down is false again, then back with the config it
// had). Used by serve.ts (one process per Pod) and serve-many.ts (one process for many Pods).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { startMediaDouble, type MediaDoubleFault, type RecordedRequest } from './server.ts';

export type PodDouble = {
  readonly url: string;
  /** Applies a changed control file and writes the state file when anything changed. */
  sync(): Promise<void>;
  stop(): Promise<void>;
};

/** The config a Pod's server starts with: every file of its conf.d directory, in name order. */
export async function confD(dir: string): Promise<string> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.startsWith('.')).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8').catch(() => '')));
  return texts.join('\n');
}

export async function startPodDouble({ host, ip, editAuth, initialConfig, stateDir, pod }: {
  /** The address to listen on ('0.0.0.0' in a Pod's own namespace, the Pod's IP on a shared host). */
  host: string;
  /** The Pod's IP: names its state and control files. */
  ip: string;
  editAuth: string;
  initialConfig: string;
  stateDir?: string;
  /** The Pod's name, recorded in the state file. */
  pod?: string;
}): Promise<PodDouble> {
  let double = await startMediaDouble({ host, port: API_PORT, editAuth, initialConfig });
  const url = double.url;
  if (!stateDir) return { url, sync: async () => undefined, stop: () => double.stop() };
  await mkdir(stateDir, { recursive: true });
  const stateFile = join(stateDir, `${ip}.json`);
  const controlFile = join(stateDir, `${ip}.control.json`);
  const received: RecordedRequest[] = [];
  let down = false;
  let seq = 0;
  let last: { config?: string; count: number; seq: number; down: boolean } = { count: -1, seq: -1, down: false };
  const writeState = () => {
    received.push(...double.received.splice(0));
    // Unchanged since the last write: nothing to serialise (a shared host holds a thousand).
    if (double.config === last.config && received.length === last.count && seq === last.seq && down === last.down) return;
    last = { config: double.config, count: received.length, seq, down };
    writeFileSync(`${stateFile}.tmp`, JSON.stringify({ pod, seq, down, config: double.config, received }));
    renameSync(`${stateFile}.tmp`, stateFile);
  };
  let applying = false;
  const sync = async () => {
    if (applying) return;
    applying = true;
    try {
      let control: { seq: number; fault: MediaDoubleFault | null; down: boolean } | undefined;
      try {
        control = JSON.parse(readFileSync(controlFile, 'utf8'));
      } catch {
        control = undefined;
      }
      if (control && control.seq !== seq) {
        if (control.down && !down) await double.stop();
        if (!control.down && down) {
          received.push(...double.received.splice(0));
          double = await startMediaDouble({ host, port: API_PORT, editAuth, initialConfig: double.config });
        }
        down = control.down;
        double.setFault(control.fault);
        seq = control.seq;
      }
      writeState();
    } finally {
      applying = false;
    }
  };
  await sync();
  return {
    url,
    sync,
    async stop() {
      if (!down) await double.stop();
    },
  };
}
