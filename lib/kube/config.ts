// Where the Kubernetes connection comes from: a kubeconfig file (KUBECONFIG or
// --kubeconfig, for `npm start` and tests) or the Pod's ServiceAccount when
// deployed. Credentials are re-read periodically so rotated projected tokens
// keep working.
import { readFile } from 'node:fs/promises';
import { Agent } from 'undici';
import type { KubeTransport } from './client.ts';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_TTL_MS = 60_000;

export class KubeConfigError extends Error {
  override name = 'KubeConfigError' as const;
  readonly code = 'KUBE_CONFIG_ERROR' as const;
}

type Kubeconfig = {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean } }[];
  users?: { name: string; user: { token?: string; tokenFile?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
};

/**
 * A transport from a kubeconfig file. Supports what the local control plane and
 * most clusters hand out: CA data or file, bearer token or token file, client
 * certificate data. Exec and auth-provider plugins are not supported (the
 * error says so); use a ServiceAccount token kubeconfig instead.
 */
export async function transportFromKubeconfig(path: string): Promise<KubeTransport> {
  const text = await readFile(path, 'utf8').catch((cause) => {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${(cause as Error).message}`);
  });
  const { parse } = await import('yaml');
  const config = parse(text) as Kubeconfig;
  const contextName = config['current-context'];
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new KubeConfigError(`kubeconfig ${path} has no current context`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  if (!cluster) throw new KubeConfigError(`kubeconfig ${path}: context ${contextName} names no known cluster`);
  if (!user.token && !user.tokenFile && !user['client-certificate-data']) {
    throw new KubeConfigError(`kubeconfig ${path}: user ${context.user} has no token, tokenFile or client-certificate-data (exec plugins are not supported)`);
  }
  const ca = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString()
    : cluster['certificate-authority']
      ? await readFile(cluster['certificate-authority'], 'utf8')
      : undefined;
  const decode = (data?: string) => (data ? Buffer.from(data, 'base64').toString() : undefined);
  const dispatcher = new Agent({
    connect: {
      ca,
      cert: decode(user['client-certificate-data']),
      key: decode(user['client-key-data']),
      rejectUnauthorized: !cluster['insecure-skip-tls-verify'],
    },
  });
  const token = user.tokenFile ? cachedFile(user.tokenFile) : async () => user.token;
  return {
    server: cluster.server.replace(/\/$/, ''),
    dispatcher,
    async headers(): Promise<Record<string, string>> {
      const value = await token();
      return value ? { authorization: `Bearer ${value.trim()}` } : {};
    },
  };
}

/** The in-cluster transport: the Pod's ServiceAccount token and CA. */
export async function transportInCluster(env: NodeJS.ProcessEnv = process.env): Promise<KubeTransport> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new KubeConfigError('not running in a cluster (KUBERNETES_SERVICE_HOST unset) and no kubeconfig given');
  const ca = await readFile(`${SA_DIR}/ca.crt`, 'utf8');
  const token = cachedFile(`${SA_DIR}/token`);
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    dispatcher: new Agent({ connect: { ca } }),
    headers: async () => ({ authorization: `Bearer ${(await token()).trim()}` }),
  };
}

/** KUBECONFIG when set, else the in-cluster ServiceAccount. */
export function defaultTransport(env: NodeJS.ProcessEnv = process.env): Promise<KubeTransport> {
  return env.KUBECONFIG ? transportFromKubeconfig(env.KUBECONFIG) : transportInCluster(env);
}

function cachedFile(path: string): () => Promise<string> {
  let value = '';
  let readAt = 0;
  return async () => {
    if (!value || Date.now() - readAt > TOKEN_TTL_MS) {
      value = await readFile(path, 'utf8');
      readAt = Date.now();
    }
    return value;
  };
}
