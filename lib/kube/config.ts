// Where the Kubernetes connection comes from, read the way kubectl reads it:
// KUBECONFIG (a list of files, merged), --kubeconfig, a context chosen by name,
// the Pod's ServiceAccount, or ~/.kube/config. Parsing and every kind of
// credential (token, tokenFile, client certificates as files or data, exec
// plugins, OIDC and the other auth providers) belong to @kubernetes/client-node's
// KubeConfig; this module only adds what client-go does and KubeConfig does not
// (below) and turns the result into the undici transport client.ts sends with.
//
// KubeConfig's module is imported lazily, on the first transport, and only its
// config module (not the generated API client; see scripts/build.ts for the
// bundle): both are measured in BENCHMARKS.md.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeTransport } from './client.ts';
import { KubeCredentialError } from './errors.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeConfigError extends Error {
  override name = 'KubeConfigError' as const;
  readonly code = 'KUBE_CONFIG_ERROR' as const;
}


export type LoadOptions = {
  /** A context of the kubeconfig to use instead of its current-context (kubectl's --context). */
  context?: string;
};

type RawUser = {
  token?: string;
  tokenFile?: string;
  'auth-provider'?: unknown;
  exec?: { command?: string; env?: { name: string; value: string }[] | null; apiVersion?: string; provideClusterInfo?: boolean };
  [key: string]: unknown;
};
type RawKubeconfig = {
  'current-context'?: string;
  clusters?: { name: string; cluster?: Record<string, unknown> }[] | null;
  users?: { name: string; user?: RawUser }[] | null;
  contexts?: { name: string; context?: Record<string, unknown> }[] | null;
};

/**
 * One kubeconfig file as client-node's KubeConfig, with what client-go adds:
 * - paths relative to the file's folder (KubeConfig does this for certificate-authority,
 *   client-certificate and client-key; here also for `tokenFile` and an exec `command`
 *   that contains a slash, as client-go resolves them);
 * - the user field `tokenFile` (KubeConfig reads only `token`): re-read every minute by
 *   KubeConfig's tokenFile provider, the one it uses for the in-cluster token;
 * - KUBERNETES_EXEC_INFO for exec plugins, as client-go sets it (non-interactive).
 */
async function loadFile(path: string): Promise<KubeConfig> {
  const text = await readFile(path, 'utf8').catch((cause: Error) => {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${cause.message}`);
  });
  const [{ load }, { KubeConfig: KubeConfigClass }, types] = await Promise.all([
    import('js-yaml'),
    import('@kubernetes/client-node/dist/config.js'),
    import('@kubernetes/client-node/dist/config_types.js'),
  ]);
  let raw: RawKubeconfig;
  try {
    raw = (load(text) ?? {}) as RawKubeconfig;
  } catch (cause) {
    throw new KubeConfigError(`kubeconfig ${path} is not valid YAML: ${(cause as Error).message}`);
  }
  const folder = dirname(resolve(path));
  const clustersByName = new Map((raw.clusters ?? []).map((c) => [c.name, c.cluster ?? {}]));
  const contextsOfUser = (user: string) => (raw.contexts ?? []).filter((c) => c.context?.user === user);
  for (const entry of raw.users ?? []) {
    const user = entry.user;
    if (!user) continue;
    if (user.tokenFile && !user.token && !user['auth-provider']) {
      user['auth-provider'] = { name: 'tokenFile', config: { tokenFile: absolute(folder, user.tokenFile) } };
    }
    const exec = user.exec;
    if (exec?.command) {
      if (exec.command.includes('/')) exec.command = absolute(folder, exec.command);
      const cluster = clustersByName.get(String(contextsOfUser(entry.name)[0]?.context?.cluster));
      const info = {
        apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        spec: {
          interactive: false,
          ...(exec.provideClusterInfo && cluster ? { cluster: { server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'], 'insecure-skip-tls-verify': cluster['insecure-skip-tls-verify'], 'tls-server-name': cluster['tls-server-name'] } } : {}),
        },
      };
      exec.env = [...(exec.env ?? []).filter((e) => e.name !== 'KUBERNETES_EXEC_INFO'), { name: 'KUBERNETES_EXEC_INFO', value: JSON.stringify(info) }];
    }
  }
  const kc = new KubeConfigClass();
  try {
    kc.loadFromOptions({
      clusters: types.newClusters(raw.clusters),
      users: types.newUsers(raw.users),
      contexts: types.newContexts(raw.contexts),
      currentContext: raw['current-context'],
    });
  } catch (cause) {
    throw new KubeConfigError(`kubeconfig ${path}: ${(cause as Error).message}`);
  }
  kc.makePathsAbsolute(folder);
  return kc;
}

const absolute = (folder: string, file: string) => (isAbsolute(file) ? file : join(folder, file));

/**
 * The kubeconfig files of a KUBECONFIG-style list (`a:b`) merged as kubectl merges
 * them: the first file to define a cluster, user or context name wins, and so does
 * the first non-empty current-context (KubeConfig.mergeConfig throws on a repeated
 * name and lets the last current-context win). Files that do not exist are skipped,
 * as kubectl skips them; a single path must exist.
 */
export async function loadKubeconfig(paths: string | string[], options: LoadOptions = {}): Promise<KubeConfig> {
  const list = (Array.isArray(paths) ? paths : paths.split(delimiter)).filter((p) => p !== '');
  if (list.length === 0) throw new KubeConfigError('no kubeconfig path given');
  const present = list.length === 1 ? list : list.filter((p) => existsSync(p));
  if (present.length === 0) throw new KubeConfigError(`none of the kubeconfig files exist: ${list.join(delimiter)}`);
  const configs = await Promise.all(present.map(loadFile));
  const [first] = configs as [KubeConfig, ...KubeConfig[]];
  if (configs.length > 1) {
    const firstWins = <T extends { name: string }>(lists: T[][]) => {
      const seen = new Map<string, T>();
      for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
      return [...seen.values()];
    };
    first.loadFromOptions({
      clusters: firstWins(configs.map((c) => c.getClusters())),
      users: firstWins(configs.map((c) => c.getUsers())),
      contexts: firstWins(configs.map((c) => c.getContexts())),
      currentContext: configs.map((c) => c.getCurrentContext()).find((name) => !!name),
    });
  }
  return selectContext(first, options.context, present.join(delimiter));
}

function selectContext(kc: KubeConfig, context: string | undefined, where: string): KubeConfig {
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      throw new KubeConfigError(`kubeconfig ${where} has no context "${context}" (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  if (!current) throw new KubeConfigError(`kubeconfig ${where} has no current-context; choose one with --context`);
  const contextObject = kc.getContextObject(current);
  if (!contextObject) throw new KubeConfigError(`kubeconfig ${where}: current-context "${current}" is not defined`);
  if (!kc.getCurrentCluster()) throw new KubeConfigError(`kubeconfig ${where}: context "${current}" names cluster "${contextObject.cluster}", which is not defined`);
  if (contextObject.user && !kc.getCurrentUser()) throw new KubeConfigError(`kubeconfig ${where}: context "${current}" names user "${contextObject.user}", which is not defined`);
  return kc;
}

/**
 * The Pod's ServiceAccount (KubeConfig.loadFromCluster: the token file re-read every
 * minute, so projected tokens that the kubelet rotates keep working). `root` is
 * prepended to the ServiceAccount folder (tests).
 */
export async function loadInCluster(env: NodeJS.ProcessEnv = process.env, root = ''): Promise<KubeConfig> {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) {
    throw new KubeConfigError('not running in a cluster (KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT unset) and no kubeconfig given');
  }
  if (!existsSync(`${root}${SERVICE_ACCOUNT_DIR}/token`)) {
    throw new KubeConfigError(`no ServiceAccount token at ${root}${SERVICE_ACCOUNT_DIR}/token (automountServiceAccountToken off?) and no kubeconfig given`);
  }
  const { KubeConfig: KubeConfigClass } = await import('@kubernetes/client-node/dist/config.js');
  const kc = new KubeConfigClass();
  // loadFromCluster reads the Service address from process.env only.
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
  process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
  try {
    kc.loadFromCluster(root);
  } finally {
    restoreEnv('KUBERNETES_SERVICE_HOST', saved.host);
    restoreEnv('KUBERNETES_SERVICE_PORT', saved.port);
  }
  return kc;
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/**
 * The configuration a deployed function or a local run uses, in controller-runtime's
 * order: KUBECONFIG when set, else the Pod's ServiceAccount, else ~/.kube/config.
 * Never a silent default server.
 */
export async function loadDefault(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<KubeConfig> {
  if (env.KUBECONFIG) return loadKubeconfig(env.KUBECONFIG, options);
  if (env.KUBERNETES_SERVICE_HOST) {
    if (options.context !== undefined) throw new KubeConfigError(`--context ${options.context} needs a kubeconfig; in a Pod there is only the ServiceAccount`);
    return loadInCluster(env);
  }
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return loadKubeconfig(home, options);
  throw new KubeConfigError('no Kubernetes configuration: set KUBECONFIG or pass --kubeconfig, or run in a Pod with a ServiceAccount token');
}

/** A transport from kubeconfig file(s): a path or a KUBECONFIG-style list. */
export async function transportFromKubeconfig(paths: string | string[], options: LoadOptions = {}): Promise<KubeTransport> {
  return transportFromKubeConfig(await loadKubeconfig(paths, options));
}

/** The in-cluster transport: the Pod's ServiceAccount token and CA. */
export async function transportInCluster(env: NodeJS.ProcessEnv = process.env, root = ''): Promise<KubeTransport> {
  return transportFromKubeConfig(await loadInCluster(env, root));
}

/** KUBECONFIG when set, else the in-cluster ServiceAccount, else ~/.kube/config. */
export async function defaultTransport(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<KubeTransport> {
  return transportFromKubeConfig(await loadDefault(env, options));
}

type TlsMaterial = { ca?: unknown; cert?: unknown; key?: unknown; pfx?: unknown; passphrase?: unknown; rejectUnauthorized?: boolean; servername?: string };

/**
 * The undici transport for a loaded KubeConfig's current context. Per request,
 * `headers()` asks KubeConfig for the credentials (it caches an exec plugin's
 * ExecCredential until its expirationTimestamp, re-reads token files every minute,
 * refreshes an expired OIDC id-token) and the TLS material (CA, client certificate
 * and key, re-read from their files). When the TLS material changes (an exec plugin
 * that hands out short-lived client certificates, a rotated certificate file) the
 * next request goes through a new connection pool and the old one is closed once
 * its requests finish; so read `dispatcher` per request, after `headers()`. The first
 * credentials are fetched here, so a broken kubeconfig or plugin fails at creation.
 */
export async function transportFromKubeConfig(kc: KubeConfig): Promise<KubeTransport> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError(`context "${kc.getCurrentContext()}" has no cluster`);
  if (cluster.proxyUrl?.startsWith('socks')) {
    throw new KubeConfigError(`cluster "${cluster.name}": proxy-url ${cluster.proxyUrl} (SOCKS) is not supported; use an HTTP(S) proxy`);
  }
  const server = cluster.server.replace(/\/$/, '');
  let material: TlsMaterial | undefined;
  let dispatcher: Dispatcher | undefined;
  const newDispatcher = (tls: TlsMaterial): Dispatcher => {
    const connect = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined && v !== null));
    return cluster.proxyUrl ? new ProxyAgent({ uri: cluster.proxyUrl, requestTls: connect }) : new Agent({ connect });
  };
  const transport = {
    server,
    get dispatcher(): Dispatcher {
      return dispatcher!; // set by the first headers(), below
    },
    async headers(): Promise<Record<string, string>> {
      const opts: Record<string, unknown> & { headers?: Record<string, unknown>; auth?: string } = {};
      try {
        await kc.applyToHTTPSOptions(opts);
      } catch (cause) {
        throw new KubeCredentialError(`credentials of context "${kc.getCurrentContext()}" (user "${kc.getCurrentUser()?.name ?? ''}"): ${(cause as Error).message.trim() || 'failed'}`, { cause });
      }
      const next: TlsMaterial = {
        ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase,
        rejectUnauthorized: opts.rejectUnauthorized as boolean | undefined, servername: opts.servername as string | undefined,
      };
      if (!material || !sameMaterial(material, next)) {
        const previous = dispatcher;
        material = next;
        dispatcher = newDispatcher(next);
        void previous?.close().catch(() => undefined);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(opts.headers ?? {})) {
        if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value).trim();
      }
      if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      return headers;
    },
  };
  // The first credentials now: a broken kubeconfig or plugin fails here, and `dispatcher` exists.
  await transport.headers();
  return transport;
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const same = (x: unknown, y: unknown) =>
    Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
  return (Object.keys({ ...a, ...b }) as (keyof TlsMaterial)[]).every((k) => same(a[k], b[k]));
}
