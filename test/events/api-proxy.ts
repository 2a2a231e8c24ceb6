// A plain-HTTP reverse proxy on 127.0.0.1 in front of the test API server, for the
// ApiServerSource adapter. It adds the kubeconfig's credentials and, by watching the requests go
// by, tells when the adapter's watches are open: the adapter itself logs nothing once its
// reflectors have listed, and events for objects created before that are never sent.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { parse } from 'yaml';

/** Where the real API server is and how to authenticate to it. */
export type Upstream = {
  server: string;
  token?: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecureSkipTlsVerify?: boolean;
};

export type ApiProxy = {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Paths (no query) of collections with a watch the API server has accepted (200). */
  watched: ReadonlySet<string>;
  close(): Promise<void>;
};

type Named<T> = { name: string } & T;
type KubeconfigFile = {
  'current-context'?: string;
  contexts?: Named<{ context: { cluster: string; user: string } }>[];
  clusters?: Named<{ cluster: Record<string, string | boolean | undefined> }>[];
  users?: Named<{ user: Record<string, string | undefined> }>[];
};

/** The current context's server and credentials: token, client certificate, CA (data or file). */
export async function readUpstream(kubeconfigPath: string): Promise<Upstream> {
  const config = parse(await readFile(kubeconfigPath, 'utf8')) as KubeconfigFile;
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${kubeconfigPath}: no cluster for the current context`);
  const material = async (data: unknown, file: unknown) => {
    if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
    if (typeof file === 'string') return readFile(file, 'utf8');
    return undefined;
  };
  return {
    server: cluster.server,
    token: user.token ?? (user['token-file'] ? (await readFile(user['token-file'], 'utf8')).trim() : undefined),
    ca: await material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: await material(user['client-certificate-data'], user['client-certificate']),
    key: await material(user['client-key-data'], user['client-key']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'host', 'authorization'];

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const copy = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

export async function startApiProxy(upstream: Upstream): Promise<ApiProxy> {
  const agent = new Agent({
    keepAlive: true,
    ca: upstream.ca,
    cert: upstream.cert,
    key: upstream.key,
    rejectUnauthorized: !upstream.insecureSkipTlsVerify,
  });
  const watched = new Set<string>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', upstream.server);
    const headers = forwardable(req.headers);
    if (upstream.token) headers.authorization = `Bearer ${upstream.token}`;
    const outgoing = httpsRequest(target, { method: req.method, headers, agent }, (answer) => {
      const watch = target.searchParams.get('watch');
      if (answer.statusCode === 200 && (watch === 'true' || watch === '1')) watched.add(target.pathname);
      res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
      answer.pipe(res);
    });
    outgoing.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => outgoing.destroy());
    req.pipe(outgoing);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    watched,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
