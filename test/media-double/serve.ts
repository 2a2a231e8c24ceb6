// The media-server double as the program of a `flussonic/flussonic:*` Pod (run by the sealed
// cluster's process runner, test/cluster/kubelet.ts): the edit_auth from FLUSSONIC_EDIT_AUTH,
// the config from the mounted conf.d directory, listening on the API port on every address of
// the Pod; seen and steered through MEDIA_DOUBLE_STATE_DIR (pod-double.ts).
//
//   node test/media-double/serve.ts
import { networkInterfaces } from 'node:os';
import { ENV } from '../../lib/k8s/env.ts';
import { CONFIG_DIR } from '../../lib/k8s/media-server-config.ts';
import { confD, startPodDouble } from './pod-double.ts';

const editAuth = process.env[ENV.editAuth];
if (!editAuth) {
  process.stderr.write(`${ENV.editAuth} is not set\n`);
  process.exit(1);
}
const initialConfig = await confD(CONFIG_DIR);
const ip = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? 'unknown';
const stateDir = process.env.MEDIA_DOUBLE_STATE_DIR;
const double = await startPodDouble({ host: '0.0.0.0', ip, editAuth, initialConfig, ...(stateDir ? { stateDir } : {}), ...(process.env.HOSTNAME ? { pod: process.env.HOSTNAME } : {}) });
process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), outcome: 'media-double-listening', url: double.url, configBytes: initialConfig.length })}\n`);
const timer = stateDir ? setInterval(() => void double.sync(), 50) : undefined;
const stop = () => {
  clearInterval(timer);
  void double.stop().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
