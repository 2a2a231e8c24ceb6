// The media-server double as the program of a `flussonic/flussonic:*` Pod (run by the sealed
// cluster's process runner, test/cluster/kubelet.ts): it starts as the real server starts, with
// the edit_auth from FLUSSONIC_EDIT_AUTH and the config from every file of the mounted conf.d
// directory (the ConfigMap), read once; it listens on the API port on every address of the Pod.
//
//   node test/media-double/serve.ts
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV } from '../../lib/k8s/env.ts';
import { CONFIG_DIR } from '../../lib/k8s/media-server-config.ts';
import { API_PORT } from '../../lib/k8s/ports.ts';
import { startMediaDouble } from './server.ts';

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
const double = await startMediaDouble({ host: '0.0.0.0', port: API_PORT, editAuth, initialConfig });
process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), outcome: 'media-double-listening', url: double.url, configBytes: initialConfig.length })}\n`);
const stop = () => void double.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
