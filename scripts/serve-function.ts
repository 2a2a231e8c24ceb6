// Serves one registered function (or the whole operator) with
// functions-framework's own server, bound to loopback: the framework's CLI
// listens on every interface, which the sandbox must not do.
//
//   node scripts/serve-function.ts <target> <port> [host]
// Targets: reconcile-children, push-config, probe-status, streamer-operator.
// Kubernetes comes from KUBECONFIG.
import { getTestServer } from '@google-cloud/functions-framework/testing';
import '../functions/index.ts';

const [target = 'streamer-operator', port = '8080', host = '127.0.0.1'] = process.argv.slice(2);
const server = getTestServer(target);
server.listen(Number(port), host, () => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), function: target, outcome: 'listening', url: `http://${host}:${port}/` })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
