// Stands in for kubelet and its container runtime on the kwok node: for every Pod kwok reports
// Running whose container images map to a local program (images.ts), it gives the Pod its own
// network namespace with the Pod's IP (netns.ts), a resolv.conf for the cluster DNS, a
// TokenRequest token of the Pod's ServiceAccount mounted where kubelet mounts it (so RBAC is the
// real one), the containers' env resolved as kubelet does (value, fieldRef, configMapKeyRef,
// secretKeyRef, envFrom), its configMap and secret volumes written where they are mounted, and
// its command and args. A program that exits is restarted with backoff; a Pod that goes is
// stopped. It knows images, not Knative. Each container logs to <logDir>/<ns>_<pod>_<container>.log.
import { existsSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import type { KubeTransport } from '../../lib/kube/client.ts';
import { API_SERVICE_IP, type PodNetwork, type SealedNetwork } from './netns.ts';
import { onExitSync, startProcess, type Managed } from './processes.ts';

export type Program = { command: string; args?: string[]; cwd?: string; env?: Record<string, string> };
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
};
export type PodObject = {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string; serviceAccountName?: string; automountServiceAccountToken?: boolean; containers: Container[]; volumes?: Volume[] };
  status?: { phase?: string; podIP?: string };
};

const SA_MOUNT = '/run/secrets/kubernetes.io/serviceaccount';

export type Kubelet = {
  /** Log file of a container, once its Pod has been started. */
  logFiles(namespace: string, podPrefix?: string): string[];
  /** Pods with running programs, as `namespace/name`. */
  running(): string[];
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

  const sync = async () => {
    const list = await api<{ items: PodObject[] }>(transport, 'GET', '/api/v1/pods');
    const live = new Set<string>();
    for (const pod of list.items) {
      const uid = pod.metadata.uid;
      if (pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running' || !pod.status.podIP) continue;
      if (!options.nodes.includes(pod.spec.nodeName ?? '')) continue;
      const programs = pod.spec.containers.map((c) => options.images(c.image));
      if (programs.some((p) => !p)) {
        const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
        if (!warned.has(key)) log(`kubelet: ${key} stays an inert kwok Pod (no local program for ${pod.spec.containers.map((c) => c.image).join(', ')})`);
        warned.add(key);
        continue;
      }
      live.add(uid);
      if (pods.has(uid)) continue;
      const running = await startPod(pod, programs as Program[]).catch((error: Error) => {
        const line = `kubelet: cannot start ${pod.metadata.namespace}/${pod.metadata.name}: ${error.message}`;
        if (!warned.has(line)) log(line); // kubelet retries each sync; say it once
        warned.add(line);
        return undefined;
      });
      if (running) pods.set(uid, running);
    }
    for (const [uid, pod] of pods) {
      if (live.has(uid)) continue;
      pods.delete(uid);
      await pod.stop();
    }
  };

  type RunningPod = { key: string; logs: string[]; stop(): Promise<void> };
  async function startPod(pod: PodObject, programs: Program[]): Promise<RunningPod> {
    const { namespace, name, uid } = pod.metadata;
    const podDir = join(options.runDir, 'pods', `${namespace}_${name}`);
    await mkdir(podDir, { recursive: true });
    const mounts: { source: string; target: string }[] = [];
    if (pod.spec.automountServiceAccountToken !== false) {
      const dir = join(podDir, 'serviceaccount');
      await mkdir(dir, { recursive: true });
      const sa = pod.spec.serviceAccountName ?? 'default';
      const review = await api<{ status: { token: string } }>(transport, 'POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 86_400, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid } },
      });
      await writeFile(join(dir, 'token'), review.status.token);
      await writeFile(join(dir, 'ca.crt'), options.caPem);
      await writeFile(join(dir, 'namespace'), namespace);
      mounts.push({ source: dir, target: SA_MOUNT });
    }
    const volumeDirs = new Map<string, string>();
    for (const volume of pod.spec.volumes ?? []) {
      const dir = join(podDir, 'volumes', volume.name);
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
    const network = await options.net.addPod({ uid, ip: pod.status?.podIP ?? '', namespace });
    const created: string[] = []; // mount points made on the host filesystem, removed at stop
    const processes: { stop(): Promise<void> }[] = [];
    const logs: string[] = [];
    try {
      for (const [index, container] of pod.spec.containers.entries()) {
        const program = programs[index] as Program;
        const containerMounts = [...mounts];
        for (const mount of container.volumeMounts ?? []) {
          const source = volumeDirs.get(mount.name);
          if (source) containerMounts.push({ source, target: mount.mountPath.replace(/^\/var\/run\//, '/run/') });
        }
        for (const { target } of containerMounts) {
          if (target.startsWith('/run/')) continue; // under the Pod's own tmpfs on /run
          let missing = target;
          while (!existsSync(dirname(missing))) missing = dirname(missing);
          if (!existsSync(missing)) created.push(missing);
          await mkdir(target, { recursive: true });
        }
        const env = { ...(await resolveEnv(transport, pod, container)), ...program.env };
        const logFile = join(logDir, `${namespace}_${name}_${container.name}.log`);
        logs.push(logFile);
        const args = [...(container.command?.length ? container.command.slice(1) : []), ...(program.args ?? []), ...(container.args ?? [])];
        const onLine = options.onLine ? (line: string) => options.onLine?.(`${namespace}/${name}`, line) : undefined;
        processes.push(supervise({ network, program, args, env, mounts: containerMounts, logFile, name: `${namespace}/${name}/${container.name}`, log, onLine }));
      }
    } catch (error) {
      await Promise.all(processes.map((p) => p.stop()));
      await network.remove();
      throw error;
    }
    const forget = onExitSync(() => {
      for (const dir of created.reverse()) {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    log(`kubelet: started ${namespace}/${name} (${pod.status?.podIP})`);
    return {
      key: `${namespace}/${name}`,
      logs,
      async stop() {
        await Promise.all(processes.map((p) => p.stop()));
        await network.remove();
        for (const dir of created.reverse()) await rm(dir, { recursive: true, force: true });
        forget();
        log(`kubelet: stopped ${namespace}/${name}`);
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
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      await Promise.all([...pods.values()].map((p) => p.stop()));
      pods.clear();
    },
  };
}

/** One container's program, restarted with backoff (0.5 s doubling to 10 s) until stopped. */
function supervise({ network, program, args, env, mounts, logFile, name, log, onLine }: {
  network: PodNetwork; program: Program; args: string[]; env: Record<string, string>;
  mounts: { source: string; target: string }[]; logFile: string; name: string; log: (line: string) => void;
  onLine?: (line: string) => void;
}): { stop(): Promise<void> } {
  // `ip netns exec` gives the process a private mount namespace (and /etc/netns/<name>/resolv.conf
  // over /etc/resolv.conf); inside it a tmpfs on /run holds the ServiceAccount token mount.
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'set -e',
    'mount -t tmpfs -o size=16m tmpfs /run',
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

async function api<T>(transport: KubeTransport, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await request(`${transport.server}${path}`, {
    method,
    dispatcher: transport.dispatcher,
    headers: { ...(await transport.headers()), accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** A ConfigMap's or Secret's data as text, or undefined when it does not exist. */
async function configData(transport: KubeTransport, namespace: string, kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, string> | undefined> {
  const object = await api<{ data?: Record<string, string> }>(transport, 'GET', `/api/v1/namespaces/${namespace}/${kind}/${name}`).catch(() => undefined);
  if (!object) return undefined;
  const data = object.data ?? {};
  if (kind === 'configmaps') return data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

/** The container's environment as kubelet builds it, plus the Service variables of `kubernetes`. */
async function resolveEnv(transport: KubeTransport, pod: PodObject, container: Container): Promise<Record<string, string>> {
  const { namespace } = pod.metadata;
  const env: Record<string, string> = {
    HOSTNAME: pod.metadata.name,
    HOME: '/root',
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
