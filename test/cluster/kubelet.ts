// Stands in for kubelet and its container runtime on the kwok node: for every Pod kwok reports
// Running whose container images map to a local program (images.ts), it gives the Pod its own
// network namespace with the Pod's IP (netns.ts), a resolv.conf for the cluster DNS, TokenRequest
// tokens of the Pod's ServiceAccount where kubelet mounts them (the API server's audience) and in
// projected serviceAccountToken volumes (their audience), so RBAC and token audiences are the
// real ones, the containers' env resolved as kubelet does (value, fieldRef, configMapKeyRef,
// secretKeyRef, envFrom), its configMap and secret volumes written where they are mounted, and
// its command and args. A program that exits is restarted with backoff as the Pod's
// restartPolicy says; a Pod that goes is stopped before its object is let go (FINALIZER). It
// knows images, not Knative. Each container logs to <logDir>/<ns>_<pod>_<container>.log.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import type { KubeTransport } from '../../lib/kube/client.ts';
import { API_SERVICE_IP, type HostNetwork, type PodNetwork, type SealedNetwork } from './netns.ts';
import { startPodInformer } from './pod-informer.ts';
import { startProcess, type Managed } from './processes.ts';

/**
 * What an image runs. `shared`: one process serves every Pod of the image (a Pod of one container
 * only), in a host namespace holding their IPs (netns.ts HostNetwork): the runner hands it each
 * Pod as SHARED_PODS_DIR/<uid>.json = { uid, name, ip, env, mounts } and deletes the file when
 * the Pod goes; the program answers on stdout with JSON lines { outcome: 'pod-serving' |
 * 'pod-failed' | 'pod-stopped', uid } (test/media-double/serve-many.ts). For runs with more Pods
 * than the machine has memory for one process each.
 */
export type Program = { command: string; args?: string[]; cwd?: string; env?: Record<string, string>; shared?: boolean };
/** The local program an image runs, or undefined (the Pod stays an inert kwok Pod). */
export type ImageTable = (image: string) => Program | undefined;

type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
};
type Container = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
};
type Volume = {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  /** Served when every source is a serviceAccountToken (a token of the Pod's ServiceAccount for an audience). */
  projected?: { sources: { serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string } }[] };
};
export type PodObject = {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string; finalizers?: string[]; labels?: Record<string, string> };
  spec: { nodeName?: string; serviceAccountName?: string; automountServiceAccountToken?: boolean; restartPolicy?: 'Always' | 'OnFailure' | 'Never'; containers: Container[]; volumes?: Volume[] };
  status?: { phase?: string; podIP?: string };
};

const SA_MOUNT = '/run/secrets/kubernetes.io/serviceaccount';
/** Pods started at once in a round. */
const START_IN_PARALLEL = 8;
/**
 * Held on every Pod whose programs run here, released once they are stopped. kwok deletes a
 * terminating Pod at once (its pod-delete stage), where a kubelet lets the object go only after
 * its containers have stopped; without this the replacement of a deleted StatefulSet Pod (same
 * name, and from kwok's pool the same IP) was Running while the old Pod's program still
 * answered at that IP, e.g. an old media server refusing the new Pod's password.
 */
export const FINALIZER = 'streamer-operator.test/process-runner';

export type Kubelet = {
  /** Log file of a container, once its Pod has been started. */
  logFiles(namespace: string, podPrefix?: string): string[];
  /** Pods with running programs, as `namespace/name`. */
  running(): string[];
  /**
   * `[command, args]` running `command` in a running Pod's network namespace (what `kubectl exec`
   * gives for the network; the filesystem stays the host's), or undefined if it does not run.
   */
  execIn(namespace: string, name: string, command: string, args: string[]): [string, string[]] | undefined;
  /** The network namespace (`ip netns` name) a running Pod's programs are in. */
  networkOf(namespace: string, name: string): string | undefined;
  stop(): Promise<void>;
};

export async function startKubelet(options: {
  kubeconfig: string;
  caPem: string;
  net: SealedNetwork;
  nodes: string[];
  images: ImageTable;
  runDir: string;
  intervalMs?: number;
  log?: (line: string) => void;
  /** Each line a container writes, with its Pod as `namespace/name` (besides its log file). */
  onLine?: (pod: string, line: string) => void;
}): Promise<Kubelet> {
  const transport = await transportFromKubeconfig(options.kubeconfig);
  const log = options.log ?? (() => undefined);
  const logDir = join(options.runDir, 'logs', 'pods');
  await mkdir(logDir, { recursive: true });
  const pods = new Map<string, RunningPod>();
  const warned = new Set<string>();
  let stopped = false;

  // Each round reads the Pods from the informer's memory (list, then watch), as kubelet does.
  const informer = await startPodInformer<PodObject>(transport, log);
  const sync = async () => {
    const list = { items: informer.pods() };
    const live = new Set<string>();
    const starting: { pod: PodObject; programs: Program[] }[] = [];
    const released: PodObject[] = [];
    for (const pod of list.items) {
      const uid = pod.metadata.uid;
      if (!options.nodes.includes(pod.spec.nodeName ?? '')) continue;
      if (pod.metadata.deletionTimestamp) {
        // Held by us but never started (or its start failed): nothing to stop, let it go.
        if (pod.metadata.finalizers?.includes(FINALIZER) && !pods.has(uid)) released.push(pod);
        continue;
      }
      if (pod.status?.phase !== 'Running' || !pod.status.podIP) continue;
      const programs = pod.spec.containers.map((c) => options.images(c.image));
      if (programs.some((p) => !p)) {
        const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
        if (!warned.has(key)) log(`kubelet: ${key} stays an inert kwok Pod (no local program for ${pod.spec.containers.map((c) => c.image).join(', ')})`);
        warned.add(key);
        continue;
      }
      live.add(uid);
      if (!pods.has(uid)) starting.push({ pod, programs: programs as Program[] });
    }
    // Stop before start: the Pod that replaces a deleted one may have its IP.
    for (const [uid, pod] of pods) {
      if (live.has(uid)) continue;
      pods.delete(uid);
      await pod.stop();
      await release(transport, pod.namespace, pod.name, uid);
    }
    for (const pod of released) await release(transport, pod.metadata.namespace, pod.metadata.name, pod.metadata.uid);
    // Pods start side by side, as kubelet's pod workers do (a burst of hundreds of streamer Pods
    // one after the other took minutes), a bounded number at a time.
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(START_IN_PARALLEL, starting.length) }, async () => {
      while (next < starting.length) await startOne(starting[next++]!);
    }));
  };

  const startOne = async ({ pod, programs }: { pod: PodObject; programs: Program[] }) => {
    const shared = programs.length === 1 && programs[0]!.shared;
    const running = await hold(transport, pod)
      .then(() => (shared ? startHostedPod(pod, programs[0]!) : startPod(pod, programs)))
      .catch((error: Error) => {
        const line = `kubelet: cannot start ${pod.metadata.namespace}/${pod.metadata.name}: ${error.message}`;
        if (!warned.has(line)) log(line); // kubelet retries each sync; say it once
        warned.add(line);
        return undefined;
      });
    if (running) pods.set(pod.metadata.uid, running);
  };

  type RunningPod = { key: string; namespace: string; name: string; logs: string[]; network: PodNetwork; stop(): Promise<void> };

  /** The Pod's files as kubelet makes them: ServiceAccount token mount, token, configMap and secret volumes. */
  async function podFiles(pod: PodObject): Promise<{ mounts: { source: string; target: string }[]; volumeDirs: Map<string, string> }> {
    const { namespace, name, uid } = pod.metadata;
    const podDir = join(options.runDir, 'pods', `${namespace}_${name}`);
    await mkdir(podDir, { recursive: true });
    const mounts: { source: string; target: string }[] = [];
    /** A TokenRequest token of the Pod's ServiceAccount, bound to the Pod (audience: the API server's unless given). */
    const podToken = async (audience?: string, expirationSeconds = 86_400) => {
      const sa = pod.spec.serviceAccountName ?? 'default';
      const review = await api<{ status: { token: string } }>(transport, 'POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds, ...(audience ? { audiences: [audience] } : {}), boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid } },
      });
      return review.status.token;
    };
    if (pod.spec.automountServiceAccountToken !== false) {
      const dir = join(podDir, 'serviceaccount');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'token'), await podToken());
      await writeFile(join(dir, 'ca.crt'), options.caPem);
      await writeFile(join(dir, 'namespace'), namespace);
      mounts.push({ source: dir, target: SA_MOUNT });
    }
    const volumeDirs = new Map<string, string>();
    for (const volume of pod.spec.volumes ?? []) {
      const dir = join(podDir, 'volumes', volume.name);
      // A projected volume of tokens alone. The API server's own kube-api-access volume (token,
      // CA and namespace) is the ServiceAccount mount above.
      const sources = volume.projected?.sources ?? [];
      const tokens = sources.flatMap((source) => (source.serviceAccountToken ? [source.serviceAccountToken] : []));
      if (tokens.length && tokens.length === sources.length) {
        for (const token of tokens) {
          await mkdir(dirname(join(dir, token.path)), { recursive: true });
          await writeFile(join(dir, token.path), await podToken(token.audience, token.expirationSeconds));
        }
        volumeDirs.set(volume.name, dir);
        continue;
      }
      const data = volume.configMap
        ? await configData(transport, namespace, 'configmaps', volume.configMap.name)
        : volume.secret
          ? await configData(transport, namespace, 'secrets', volume.secret.secretName)
          : undefined;
      if (!data) continue;
      const items = volume.configMap?.items ?? volume.secret?.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) {
        await mkdir(dirname(join(dir, item.path)), { recursive: true });
        await writeFile(join(dir, item.path), data[item.key] ?? '');
      }
      volumeDirs.set(volume.name, dir);
    }
    return { mounts, volumeDirs };
  }

  /** A container's mounts: the Pod's own, then its volumeMounts (/var/run is /run). */
  const containerMounts = (container: Container, files: Awaited<ReturnType<typeof podFiles>>) => {
    const mounts = [...files.mounts];
    for (const mount of container.volumeMounts ?? []) {
      const source = files.volumeDirs.get(mount.name);
      if (source) mounts.push({ source, target: mount.mountPath.replace(/^\/var\/run\//, '/run/') });
    }
    return mounts;
  };

  async function startPod(pod: PodObject, programs: Program[]): Promise<RunningPod> {
    const { namespace, name, uid } = pod.metadata;
    const files = await podFiles(pod);
    const network = await options.net.addPod({ uid, ip: pod.status?.podIP ?? '', namespace });
    const processes: { stop(): Promise<void> }[] = [];
    const logs: string[] = [];
    try {
      for (const [index, container] of pod.spec.containers.entries()) {
        const program = programs[index] as Program;
        const mounts = containerMounts(container, files);
        const layers = privateLayers(mounts.map((m) => m.target));
        const env = { ...(await resolveEnv(transport, pod, container)), ...program.env };
        const logFile = join(logDir, `${namespace}_${name}_${container.name}.log`);
        logs.push(logFile);
        const args = [...(container.command?.length ? container.command.slice(1) : []), ...(program.args ?? []), ...(container.args ?? [])];
        const onLine = options.onLine ? (line: string) => options.onLine?.(`${namespace}/${name}`, line) : undefined;
        processes.push(supervise({ network, program, args, env, mounts, layers, restartPolicy: pod.spec.restartPolicy ?? 'Always', logFile, name: `${namespace}/${name}/${container.name}`, log, onLine }));
      }
    } catch (error) {
      await Promise.all(processes.map((p) => p.stop()));
      await network.remove();
      throw error;
    }
    log(`kubelet: started ${namespace}/${name} (${pod.status?.podIP})`);
    return {
      key: `${namespace}/${name}`,
      namespace,
      name,
      logs,
      network,
      async stop() {
        await Promise.all(processes.map((p) => p.stop()));
        await network.remove();
        log(`kubelet: stopped ${namespace}/${name}`);
      },
    };
  }

  /** A shared Program's one process, its host namespace and the answers it owes (Program.shared). */
  type SharedHost = { network: HostNetwork; dir: string; logFile: string; process: { stop(): Promise<void> }; answer(uid: string, outcomes: string[], timeoutMs: number): Promise<{ outcome: string; message?: string }> };
  const hosts = new Map<string, Promise<SharedHost>>();
  const sharedHost = (program: Program): Promise<SharedHost> => {
    const key = JSON.stringify([program.command, program.args, program.cwd, program.env]);
    let host = hosts.get(key);
    if (!host) {
      host = startSharedHost(program, hosts.size);
      hosts.set(key, host);
      host.catch(() => hosts.delete(key)); // the next Pod tries again
    }
    return host;
  };
  async function startSharedHost(program: Program, index: number): Promise<SharedHost> {
    const network = await options.net.addHost(index);
    const dir = join(options.runDir, 'shared', String(index));
    await mkdir(dir, { recursive: true });
    const waiting = new Map<string, { outcomes: string[]; resolve(answer: { outcome: string; message?: string }): void }>();
    const onLine = (line: string) => {
      options.onLine?.(`shared/${index}`, line);
      let answer: { outcome?: string; uid?: string; message?: string };
      try {
        answer = JSON.parse(line);
      } catch {
        return;
      }
      const waiter = answer.uid ? waiting.get(answer.uid) : undefined;
      if (waiter && answer.outcome && waiter.outcomes.includes(answer.outcome)) {
        waiting.delete(answer.uid!);
        waiter.resolve({ outcome: answer.outcome, ...(answer.message ? { message: answer.message } : {}) });
      }
    };
    const logFile = join(logDir, `shared_${index}.log`);
    const running = supervise({ network, program, args: program.args ?? [], env: { ...program.env, SHARED_PODS_DIR: dir }, mounts: [], layers: [], restartPolicy: 'Always', logFile, name: `shared/${index}`, log, onLine });
    log(`kubelet: started shared host ${index} (${program.command} ${(program.args ?? []).join(' ')})`);
    return {
      network,
      dir,
      logFile,
      process: running,
      answer: (uid, outcomes, timeoutMs) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(uid);
          reject(new Error(`shared host ${index} gave no ${outcomes.join('/')} for Pod ${uid} in ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(uid, { outcomes, resolve: (answer) => (clearTimeout(timer), resolve(answer)) });
      }),
    };
  }

  /** A Pod served by its image's shared host: its IP added to the host, the Pod handed over as a file. */
  async function startHostedPod(pod: PodObject, program: Program): Promise<RunningPod> {
    const { namespace, name, uid } = pod.metadata;
    const container = pod.spec.containers[0]!;
    const ip = pod.status?.podIP ?? '';
    const host = await sharedHost(program);
    const files = await podFiles(pod);
    const env = { ...(await resolveEnv(transport, pod, container)), ...program.env };
    const file = join(host.dir, `${uid}.json`);
    await host.network.addAddress(ip);
    const served = host.answer(uid, ['pod-serving', 'pod-failed'], 30_000);
    served.catch(() => undefined); // awaited below; a failed hand-over must not reject unwatched
    const unhand = async () => {
      const stopped = host.answer(uid, ['pod-stopped'], 10_000).catch(() => undefined);
      await rm(file, { force: true });
      await stopped;
      await host.network.removeAddress(ip);
    };
    await writeFile(`${file}.tmp`, JSON.stringify({ uid, name, ip, env, mounts: containerMounts(container, files) }))
      .then(() => rename(`${file}.tmp`, file))
      .catch(async (error: Error) => {
        await unhand();
        throw error;
      });
    const answer = await served.catch(async (error: Error) => {
      await unhand();
      throw error;
    });
    if (answer.outcome === 'pod-failed') {
      await unhand();
      throw new Error(`shared host refused the Pod: ${answer.message ?? 'no reason given'}`);
    }
    log(`kubelet: started ${namespace}/${name} (${ip}) on shared host ${host.network.name}`);
    return {
      key: `${namespace}/${name}`,
      namespace,
      name,
      logs: [host.logFile],
      network: host.network,
      async stop() {
        await unhand();
        log(`kubelet: stopped ${namespace}/${name} on its shared host`);
      },
    };
  }

  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let lastSyncError = '';
  const loop = () => {
    current = sync()
      .catch((error: Error) => {
        const line = `kubelet: sync failed: ${error.message}`;
        if (line !== lastSyncError) log(line);
        lastSyncError = line;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 300);
      });
  };
  loop();
  await current;

  return {
    logFiles(namespace, podPrefix = '') {
      return [...pods.values()].filter((p) => p.key.startsWith(`${namespace}/${podPrefix}`)).flatMap((p) => p.logs);
    },
    running: () => [...pods.values()].map((p) => p.key),
    execIn(namespace, name, command, args) {
      return [...pods.values()].find((p) => p.key === `${namespace}/${name}`)?.network.exec(command, args);
    },
    networkOf: (namespace, name) => [...pods.values()].find((p) => p.key === `${namespace}/${name}`)?.network.name,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      informer.stop();
      await current;
      await Promise.all([...pods].map(async ([uid, p]) => {
        await p.stop();
        await release(transport, p.namespace, p.name, uid).catch(() => undefined); // the API may be going too
      }));
      pods.clear();
      await Promise.all([...hosts.values()].map(async (host) => {
        const running = await host.catch(() => undefined);
        await running?.process.stop();
        await running?.network.remove();
      }));
      hosts.clear();
    },
  };
}

/**
 * The directories a container's mount points need a private, writable layer on: for each target
 * that does not exist on the host (e.g. /etc/coredns), its nearest existing ancestor (/etc).
 * Targets under /run need none (the Pod's own tmpfs). The host filesystem is never written: a
 * mount point made there is shared with every other sealed cluster on the machine (another
 * session's), and removing it at stop detached their Pods' mounts on it.
 */
export function privateLayers(targets: string[]): string[] {
  const roots = new Set<string>();
  for (const target of targets) {
    if (target.startsWith('/run/') || existsSync(target)) continue;
    let root = dirname(target);
    while (!existsSync(root)) root = dirname(root);
    if (root === '/') throw new Error(`cannot mount at ${target}: a new top-level directory would need a private root`);
    roots.add(root);
  }
  // A root under another root is covered by the outer layer.
  return [...roots].filter((r) => ![...roots].some((o) => o !== r && r.startsWith(`${o}/`))).sort();
}

/** One container's program, restarted as restartPolicy says, with backoff (0.5 s doubling to 10 s), until stopped. */
function supervise({ network, program, args, env, mounts, layers, restartPolicy, logFile, name, log, onLine }: {
  network: PodNetwork; program: Program; args: string[]; env: Record<string, string>;
  mounts: { source: string; target: string }[]; layers: string[]; restartPolicy: 'Always' | 'OnFailure' | 'Never';
  logFile: string; name: string; log: (line: string) => void;
  onLine?: (line: string) => void;
}): { stop(): Promise<void> } {
  // `ip netns exec` gives the process a private mount namespace (and /etc/netns/<name>/resolv.conf
  // over /etc/resolv.conf); inside it a tmpfs on /run holds the ServiceAccount token mount, and
  // each private layer is an overlay whose upper half is on that tmpfs, so the mount points made
  // in it exist in this mount namespace only. An overlay on /etc hides the resolv.conf and hosts
  // binds `ip netns exec` made, so they are made again over it.
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const etcNetns = `/etc/netns/${network.name}`;
  const script = [
    'set -e',
    'mount -t tmpfs -o size=16m tmpfs /run',
    `mkdir -p ${POD_HOME}`,
    ...layers.flatMap((root, i) => [
      `mkdir -p /run/.layers/${i}/upper /run/.layers/${i}/work`,
      `mount -t overlay overlay -o lowerdir=${q(root)},upperdir=/run/.layers/${i}/upper,workdir=/run/.layers/${i}/work ${q(root)}`,
    ]),
    ...(layers.length ? [`for f in ${q(etcNetns)}/*; do if [ -e "$f" ]; then mount --bind "$f" "/etc/\${f##*/}"; fi; done`] : []),
    ...mounts.map(({ source, target }) => `mkdir -p ${q(target)} && mount --bind ${q(source)} ${q(target)}`),
    'exec "$@"',
  ].join('\n');
  let managed: Managed | undefined;
  let stopping = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    const [command, argv] = network.exec('sh', ['-c', script, 'sh', program.command, ...args]);
    const startedAt = Date.now();
    managed = startProcess({ name, command, args: argv, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, cwd: program.cwd, logFile, ...(onLine ? { onLine } : {}) });
    void managed.exited.then((code) => {
      if (stopping) return;
      if (restartPolicy === 'Never' || (restartPolicy === 'OnFailure' && code === 0)) {
        log(`kubelet: ${name} exited (${code}); restartPolicy ${restartPolicy}, not restarted`);
        return;
      }
      failures = Date.now() - startedAt > 30_000 ? 1 : failures + 1;
      const delay = Math.min(10_000, 500 * 2 ** (failures - 1));
      log(`kubelet: ${name} exited (${code}); restarting in ${delay} ms`);
      timer = setTimeout(start, delay);
    });
  };
  start();
  return {
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await managed?.stop(5_000);
    },
  };
}

async function api<T>(transport: KubeTransport, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
  const contentType = method === 'PATCH' ? 'application/strategic-merge-patch+json' : 'application/json';
  const response = await request(`${transport.server}${path}`, {
    method,
    dispatcher: transport.dispatcher,
    headers: { ...(await transport.headers()), accept: 'application/json', ...(body ? { 'content-type': contentType } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Adds FINALIZER to a Pod about to run here (finalizers merge as a set). */
async function hold(transport: KubeTransport, pod: PodObject): Promise<void> {
  if (pod.metadata.finalizers?.includes(FINALIZER)) return;
  await api(transport, 'PATCH', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, { metadata: { uid: pod.metadata.uid, finalizers: [FINALIZER] } });
}

/**
 * Removes FINALIZER once the Pod's programs are stopped (the uid a precondition, so a newer Pod
 * of the same name keeps its own); a Pod already gone is fine.
 */
async function release(transport: KubeTransport, namespace: string, name: string, uid: string): Promise<void> {
  await api(transport, 'PATCH', `/api/v1/namespaces/${namespace}/pods/${name}`, { metadata: { uid, '$deleteFromPrimitiveList/finalizers': [FINALIZER] } }).catch((error: Error) => {
    if (!/: (404|409) /.test(error.message)) throw error;
  });
}

/** A ConfigMap's or Secret's data as text, or undefined when it does not exist. */
async function configData(transport: KubeTransport, namespace: string, kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, string> | undefined> {
  const object = await api<{ data?: Record<string, string> }>(transport, 'GET', `/api/v1/namespaces/${namespace}/${kind}/${name}`).catch(() => undefined);
  if (!object) return undefined;
  const data = object.data ?? {};
  if (kind === 'configmaps') return data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

const POD_HOME = '/run/home';

/** The container's environment as kubelet builds it, plus the Service variables of `kubernetes`. */
async function resolveEnv(transport: KubeTransport, pod: PodObject, container: Container): Promise<Record<string, string>> {
  const { namespace } = pod.metadata;
  const env: Record<string, string> = {
    HOSTNAME: pod.metadata.name,
    // An empty home of the Pod's own (on its /run tmpfs), as an image's root home is: the host's
    // /root is not the container's, and a rootless run cannot even read it (client-go's loaders
    // then fail on ~/.kube/config instead of falling back to the in-cluster config).
    HOME: POD_HOME,
    KUBERNETES_SERVICE_HOST: API_SERVICE_IP,
    KUBERNETES_SERVICE_PORT: '443',
  };
  for (const source of container.envFrom ?? []) {
    const data = source.configMapRef
      ? await configData(transport, namespace, 'configmaps', source.configMapRef.name)
      : source.secretRef
        ? await configData(transport, namespace, 'secrets', source.secretRef.name)
        : undefined;
    for (const [key, value] of Object.entries(data ?? {})) env[`${source.prefix ?? ''}${key}`] = value;
  }
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec.nodeName,
    'spec.serviceAccountName': pod.spec.serviceAccountName,
    'status.podIP': pod.status?.podIP,
  };
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    let value: string | undefined = entry.value ?? '';
    if (from?.fieldRef) value = fields[from.fieldRef.fieldPath];
    else if (from?.configMapKeyRef) value = (await configData(transport, namespace, 'configmaps', from.configMapKeyRef.name))?.[from.configMapKeyRef.key];
    else if (from?.secretKeyRef) value = (await configData(transport, namespace, 'secrets', from.secretKeyRef.name))?.[from.secretKeyRef.key];
    if (value === undefined) {
      const optional = from?.configMapKeyRef?.optional ?? from?.secretKeyRef?.optional;
      if (!optional) throw new Error(`container ${container.name}: env ${entry.name} cannot be resolved yet`);
      continue;
    }
    env[entry.name] = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, ref: string) => env[ref] ?? whole);
  }
  return env;
}
