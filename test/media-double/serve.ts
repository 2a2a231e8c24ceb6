// The media-server double as the program of a `flussonic/flussonic:*` Pod (run by the sealed
// cluster's process runner, test/cluster/kubelet.ts): it starts as the real server starts, with
// the edit_auth from FLUSSONIC_EDIT_AUTH and the config from every file of the mounted conf.d
// directory (the ConfigMap), read once; it listens on the API port on every address of the Pod.
//
//   node test/media-double/serve.ts
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../lib/k8s/env.ts';
import { CONFIG_DIR } from '../../lib/k8s/media-server-config.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { startMediaDouble, type MediaDoubleFault } from './server.ts';

async function confD(dir: string): Promise<string> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.startsWith('.')).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8').catch(() => '')));
  return texts.join('\n');
}

const editAuth = process.env[ENV.editAuth];
if (!editAuth) {
  process.stderr.write(`${ENV.editAuth} is not set\n`);
  process.exit(1);
}
const initialConfig = await confD(CONFIG_DIR);
let double = await startMediaDouble({ host: '0.0.0.0', port: API_PORT, editAuth, initialConfig });
process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), outcome: 'media-double-listening', url: double.url, configBytes: initialConfig.length })}\n`);

// With MEDIA_DOUBLE_STATE_DIR (the sealed test cluster sets it to a dir in its run dir), the
// tests on the host see and steer this double through files, never through the sealed network:
// it writes <dir>/<pod IP>.json (saved config, every request received, whether it is down) and
// applies <dir>/<pod IP>.control.json ({ seq, fault, down }: a fault mode, or the server down —
// its listener closed — until down is false again, then back with the config it had).
const stateDir = process.env.MEDIA_DOUBLE_STATE_DIR;
const timers: NodeJS.Timeout[] = [];
if (stateDir) {
  const ip = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? 'unknown';
  await mkdir(stateDir, { recursive: true });
  const stateFile = join(stateDir, `${ip}.json`);
  const controlFile = join(stateDir, `${ip}.control.json`);
  const received: unknown[] = [];
  let down = false;
  let seq = 0;
  let written = '';
  const writeState = () => {
    received.push(...double.received.splice(0));
    const text = JSON.stringify({ pod: process.env.HOSTNAME, seq, down, config: double.config, received });
    if (text === written) return;
    writeFileSync(`${stateFile}.tmp`, text);
    renameSync(`${stateFile}.tmp`, stateFile);
    written = text;
  };
  let applying = false;
  const applyControl = async () => {
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
          double = await startMediaDouble({ host: '0.0.0.0', port: API_PORT, editAuth, initialConfig: double.config });
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
  await applyControl();
  timers.push(setInterval(() => void applyControl(), 50));
}
const stop = () => {
  for (const timer of timers) clearInterval(timer);
  void double.stop().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
