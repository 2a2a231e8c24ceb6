// Stands in for the route from a user's machine to a cluster's API endpoint (a load balancer in
// front of the control plane): the API server lives in the sealed network namespace, which has no
// link to the host, so two relay processes join them through a unix socket (a file, visible from
// both namespaces): one inside dials the API server, one on the host listens on 127.0.0.1.
//
//   node test/cluster/relay.ts unix-to-tcp <socket> <host> <port>   (run inside the namespace)
//   node test/cluster/relay.ts tcp-to-unix <port> <socket>          (run on the host, 127.0.0.1 only)
// Each prints `listening` once it accepts connections.
import { connect, createServer, type Socket } from 'node:net';

function pipe(client: Socket, dial: () => Socket): void {
  const upstream = dial();
  client.pipe(upstream);
  upstream.pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
}

const [mode, a, b, c] = process.argv.slice(2);
if (import.meta.main) {
  if (mode === 'unix-to-tcp' && a && b && c) {
    createServer((client) => pipe(client, () => connect(Number(c), b))).listen(a, () => process.stdout.write('listening\n'));
  } else if (mode === 'tcp-to-unix' && a && b) {
    createServer((client) => pipe(client, () => connect(b))).listen(Number(a), '127.0.0.1', () => process.stdout.write('listening\n'));
  } else {
    process.stderr.write('usage: relay.ts unix-to-tcp <socket> <host> <port> | tcp-to-unix <port> <socket>\n');
    process.exit(2);
  }
  process.once('SIGTERM', () => process.exit(0));
}
