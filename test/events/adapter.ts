// Runs the real Knative ApiServerSource receive adapter (knative.dev/eventing v0.49.2,
// cmd/apiserver_receive_adapter) against the test cluster, configured by environment exactly as
// the ApiServerSource reconciler configures its Deployment (knative.md §5).
//
// Ports. The adapter hard-codes two listeners on ALL interfaces (Go ":port"):
// - health probes on :8080 (knative.dev/pkg injection.HealthCheckDefaultPort; eventing
//   pkg/adapter/v2/main.go calls ServeHealthProbes with that constant; no env var or flag);
// - profiling on ":" + $PROFILING_PORT (default 8008; knative.dev/pkg observability/runtime
//   pprof.go) — only the port can be chosen, not the host.
// Neither can be made to bind 127.0.0.1, and the adapter ignores both servers' bind errors
// (the health server's error is discarded; the profiling one logs a warning). So before the
// start this module listens on 127.0.0.1:8080 (when free) and on a free 127.0.0.1 port it passes
// as PROFILING_PORT: while a socket listens there, Linux refuses the adapter's wildcard bind,
// and the adapter opens no listener at all. Both are released on stop().
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit, startProcess, type Managed } from '../cluster/processes.ts';
import { readUpstream, startApiProxy, type ApiProxy } from './api-proxy.ts';

export type AdapterResource = {
  apiVersion: string;
  kind: string;
  /** @default the adapter reconciler's guess (meta.UnsafeGuessKindToResource): `Streamer` → `streamers` */
  plural?: string;
  /** A label selector string, e.g. `app.kubernetes.io/managed-by=streamer-operator`. */
  selector?: string;
};

export type AdapterOptions = {
  /** Folder holding `apiserver_receive_adapter` (cluster.binDir). */
  binDir: string;
  /** Admin kubeconfig of the cluster (cluster.kubeconfig). */
  kubeconfig: string;
  /** Where events are POSTed (K_SINK), e.g. `http://127.0.0.1:PORT/`. */
  sink: string;
  /** Namespaces to watch. @default all namespaces (`allNamespaces: true`) */
  namespaces?: string[];
  resources: AdapterResource[];
  /** `spec.owner`: only objects whose controller is of this kind (apiVersion empty = any version). */
  owner?: { apiVersion?: string; kind: string };
  mode: 'Resource' | 'Reference';
  /** The source's name (NAME). */
  name: string;
  /** Extra CloudEvent extensions (`spec.ceOverrides.extensions`, K_CE_OVERRIDES). */
  extensions?: Record<string, string>;
  /** Adapter log level (`loglevel.apiserversource`). debug logs every event sent. @default 'info' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for every watch to open. @default 30000 */
  readyTimeoutMs?: number;
};

export type RunningAdapter = {
  pid: number;
  /** The adapter's JSON log (stdout and stderr). */
  logFile: string;
  tail(lines?: number): Promise<string>;
  /** Kills the adapter (SIGTERM, then SIGKILL), closes the proxy and the held ports. */
  stop(): Promise<void>;
};

/** meta.UnsafeGuessKindToResource from k8s.io/apimachinery, as the ApiServerSource reconciler uses it. */
export function guessPlural(kind: string): string {
  const singular = kind.toLowerCase();
  if (singular.endsWith('endpoints')) return singular;
  if (singular.endsWith('s')) return `${singular}es`;
  if (singular.endsWith('y')) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}

/** The K_SOURCE_CONFIG JSON (eventing pkg/adapter/apiserver/config.go; GVR keys are capitalised). */
export function sourceConfig(options: Pick<AdapterOptions, 'namespaces' | 'resources' | 'owner' | 'mode'>): string {
  const allNamespaces = !options.namespaces || options.namespaces.length === 0;
  return JSON.stringify({
    namespaces: options.namespaces ?? [],
    allNamespaces,
    resources: options.resources.map((r) => {
      const [group, version] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
      return { gvr: { Group: group, Version: version, Resource: r.plural ?? guessPlural(r.kind) }, ...(r.selector ? { selector: r.selector } : {}) };
    }),
    ...(options.owner ? { owner: { apiVersion: options.owner.apiVersion ?? '', kind: options.owner.kind } } : {}),
    mode: options.mode,
    failFast: false,
  });
}

/** Collection paths the adapter watches: one per namespace per resource, or one cluster-wide. */
function watchPaths(options: AdapterOptions): { resource: string; paths: string[] }[] {
  return options.resources.map((r) => {
    const root = r.apiVersion.includes('/') ? `/apis/${r.apiVersion}` : `/api/${r.apiVersion}`;
    const plural = r.plural ?? guessPlural(r.kind);
    const namespaces = options.namespaces ?? [];
    return {
      resource: `${r.apiVersion} ${r.kind}`,
      paths: [`${root}/${plural}`, ...namespaces.map((ns) => `${root}/namespaces/${ns}/${plural}`)],
    };
  });
}

/** True when every resource's watches are open (a cluster-wide watch covers all namespaces). */
function allWatched(expected: { paths: string[] }[], watched: ReadonlySet<string>, namespaced: boolean): boolean {
  return expected.every(({ paths }) => {
    const [clusterWide, ...perNamespace] = paths;
    return watched.has(clusterWide!) || (namespaced && perNamespace.every((p) => watched.has(p)));
  });
}

async function hold(port: number): Promise<Server | null> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Starts the adapter and resolves once the API server has accepted every watch it needs, so an
 * object created after this resolves produces an event (objects that exist before produce none).
 * The adapter talks to the API server through a loopback proxy (see api-proxy.ts). Throws, with
 * the adapter's log tail, when it exits early or the watches do not open in time.
 */
export async function startAdapter(options: AdapterOptions): Promise<RunningAdapter> {
  const dir = await mkdtemp(join(tmpdir(), `adapter-${options.name}-`));
  const forgetDir = removeOnExit(dir);
  const held: Server[] = [];
  let proxy: ApiProxy | undefined;
  let adapter: Managed | undefined;
  const stop = async () => {
    await adapter?.stop(5_000);
    await proxy?.close();
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await rm(dir, { recursive: true, force: true });
    forgetDir();
  };
  try {
    proxy = await startApiProxy(await readUpstream(options.kubeconfig));
    const kubeconfig = join(dir, 'kubeconfig.json');
    await writeFile(kubeconfig, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'proxy', cluster: { server: proxy.url } }],
      users: [{ name: 'proxy', user: {} }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
      'current-context': 'proxy',
    }));
    const health = await hold(8080); // null: something already listens there, which blocks it too
    if (health) held.push(health);
    const profiling = await hold(0);
    if (!profiling) throw new Error('could not listen on a free 127.0.0.1 port');
    held.push(profiling);
    const profilingPort = (profiling.address() as { port: number }).port;

    adapter = startProcess({
      name: `apiserver_receive_adapter ${options.name}`,
      command: join(options.binDir, 'apiserver_receive_adapter'),
      args: [],
      logFile: join(dir, 'adapter.log'),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        KUBECONFIG: kubeconfig,
        K_SOURCE_CONFIG: sourceConfig(options),
        NAME: options.name,
        NAMESPACE: options.namespaces?.[0] ?? 'default',
        K_SINK: options.sink,
        SYSTEM_NAMESPACE: 'knative-eventing',
        METRICS_DOMAIN: 'knative.dev/eventing',
        K_LOGGING_CONFIG: JSON.stringify({ 'loglevel.apiserversource': options.logLevel ?? 'info' }),
        K_OBSERVABILITY_CONFIG: '{}',
        PROFILING_PORT: String(profilingPort),
        ...(options.extensions ? { K_CE_OVERRIDES: JSON.stringify({ extensions: options.extensions }) } : {}),
      },
    });
    await waitForWatches(options, proxy, adapter);
  } catch (error) {
    const tail = adapter ? `\n--- ${adapter.logFile}\n${await adapter.tail(30)}` : '';
    await stop();
    throw new Error(`ApiServerSource adapter ${options.name}: ${(error as Error).message}${tail}`, { cause: error });
  }
  const running = adapter;
  return { pid: running.pid, logFile: running.logFile, tail: (lines) => running.tail(lines), stop };
}

async function waitForWatches(options: AdapterOptions, proxy: ApiProxy, adapter: Managed): Promise<void> {
  const expected = watchPaths(options);
  const namespaced = (options.namespaces ?? []).length > 0;
  let exited: number | null | undefined;
  void adapter.exited.then((code) => (exited = code));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (!allWatched(expected, proxy.watched, namespaced)) {
    if (exited !== undefined) throw new Error(`exited with code ${exited} before its watches opened`);
    if (Date.now() > deadline) {
      const missing = expected.filter((e) => !allWatched([e], proxy.watched, namespaced)).map((e) => e.resource);
      throw new Error(`no watch opened within ${options.readyTimeoutMs ?? 30_000} ms for: ${missing.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
