// A real Kubernetes control plane for tests and the local sandbox: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok (the node),
// all built from Go modules by build.sh. No Docker, no fakes.
//
// Two networks: `loopback` (everything on 127.0.0.1, Pods get 127.100.x IPs that
// nothing serves unless a test double binds them) and `sealed` (the control
// plane inside a sealed network namespace, Pods in 10.244.0.0/16 with their own
// namespaces, Services in 10.96.0.0/16, the API reachable from the host only
// through a relay on 127.0.0.1; see netns.ts, relay.ts, sealed-addons.ts).
//
//   const cluster = await startCluster({ crdDirs: ['crds'] });
//   await cluster.kubectl(['get', 'nodes']);
//   await cluster.stop();
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { buildBinaries, buildKnativeBinaries } from './binaries.ts';
import { createClientCa, type ClientCa } from './client-ca.ts';
import { imageTable } from './images.ts';
import type { ImageTable, Kubelet } from './kubelet.ts';
import { startSealedAddons } from './sealed-addons.ts';
import { enterRootlessIfNeeded } from './rootless.ts';
import { kubectlRunner, type Kubectl } from './kubectl.ts';
import { freePort } from './ports.ts';
import { removeOnExit, startProcess, type Managed } from './processes.ts';
import { makeServingCertificate } from './certs.ts';
import { API_SERVICE_IP, BRIDGE_IP, SERVICE_RANGE, createSealedNetwork, type SealedNetwork } from './netns.ts';
import { waitFor } from './wait.ts';
import { phaseClock } from './phases.ts';

export type ClusterOptions = {
  /** Folders whose *.yaml are applied before the controller manager starts (so GC knows the kinds). */
  crdDirs?: string[];
  /** Install the Knative CRDs from ../shared/upstream/knative-crds, conversion webhooks stripped. */
  knativeCrds?: boolean;
  /** Names of the kwok-managed Nodes. Default: ['stream-node'] (the spec's quickstart node). */
  nodes?: string[];
  /**
   * Third octet of the first node's pod subnet (127.100.<n>.0/24, the next node n+1, ...).
   * Default: random, so two clusters on one machine (tests beside `npm start` or a
   * benchmark) give their Pods different loopback IPs for the media-server doubles.
   */
  podSubnetBase?: number;
  /** Progress lines (the cold build takes minutes). Default: stderr. */
  log?: (line: string) => void;
  /** @default 'loopback'. 'sealed' needs root or unprivileged user namespaces (netns.ts, rootless.ts). */
  network?: 'loopback' | 'sealed';
  /** Sealed only: more images the process runner maps to programs (consulted before images.ts). */
  images?: ImageTable;
  /**
   * Work that needs only the API server (e.g. installing Knative Eventing): started once it
   * serves and the CRDs are established, beside the rest of the start (controller manager,
   * scheduler, kwok, the sealed add-ons); startCluster resolves after it.
   */
  alongside?: (cluster: { kubectl: Kubectl; runDir: string; knativeBinDir?: string }) => Promise<void>;
  /** Sealed only: every line a Pod's program writes, with the Pod as `namespace/name`. */
  podLines?: (pod: string, line: string) => void;
  /** Sealed only: one media-double process serves every streamer Pod (images.ts sharedMedia), for benches of hundreds of Pods. */
  sharedMedia?: boolean;
  /** More kube-controller-manager flags (benches: e.g. its client QPS), after the defaults. */
  controllerManagerArgs?: string[];
};

export type ClusterInfo = {
  kubeconfig: string;
  server: string;
  token: string;
  caPem: string;
  binDir: string;
  runDir: string;
  nodes: string[];
  pids: number[];
  network: 'loopback' | 'sealed';
  /** The sealed network namespace (`ip netns` name), when network is 'sealed'. */
  netns?: string;
  /** The CA the API server trusts for client certificates (--client-ca-file); see client-ca.ts. */
  clientCa: ClientCa;
};

export type Cluster = ClusterInfo & {
  kubectl: Kubectl;
  /** The sealed network, to run more processes in it (network 'sealed' only). */
  sealed?: {
    net: SealedNetwork;
    kubelet: Kubelet;
    /** Knative commands, kube-proxy, coredns and knative-config/ (build-knative.sh). */
    knativeBinDir: string;
    run(name: string, command: string, args: string[]): Managed;
    kubeconfigInside: string;
    /** Resolves once the cluster DNS answers (see SealedAddons.dns); wait before Pods resolve names. */
    dnsReady: Promise<void>;
  };
  /** Creates a namespace with a unique name and waits for its `default` ServiceAccount. */
  createNamespace(prefix: string): Promise<string>;
  stop(): Promise<void>;
};

export const repoRoot = new URL('../../', import.meta.url).pathname;
export const knativeCrdDir = join(repoRoot, '..', 'shared', 'upstream', 'knative-crds');
const relayScript = new URL('./relay.ts', import.meta.url).pathname;
/** Extra kwok stages of this repo (e.g. pod-never-ready.yaml: Pods of a "-never-ready" image stay not Ready). */
export const localStageDir = join(repoRoot, 'test', 'cluster', 'kwok-stages');

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  // Without root, a sealed cluster's process re-runs itself in a rootless user namespace first
  // (rootless.ts): callers start a sealed cluster before anything else, as every entry point does.
  if (options.network === 'sealed') await enterRootlessIfNeeded();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const nodes = options.nodes ?? ['stream-node'];
  const subnetBase = options.podSubnetBase ?? randomInt(0, 256 - nodes.length);
  const started = Date.now();
  const phase = phaseClock('cluster', log);
  const binDir = await buildBinaries(log);
  const network = options.network ?? 'loopback';
  const knativeBinDir = network === 'sealed' ? await buildKnativeBinaries(log) : undefined;
  phase('builds (cache lookups)');

  const runDir = await mkdtemp(join(tmpdir(), 'streamer-cluster-'));
  const logs = join(runDir, 'logs');
  await mkdir(logs);
  const forgetRunDir = removeOnExit(runDir);
  const processes: Managed[] = [];
  const stopHooks: (() => Promise<void>)[] = [];
  let net: SealedNetwork | undefined;
  const runAny = (name: string, command: string, args: string[]) => {
    const [cmd, argv] = net ? net.exec(command, args) : [command, args];
    const managed = startProcess({ name, command: cmd, args: argv, logFile: join(logs, `${name}.log`) });
    processes.push(managed);
    return managed;
  };
  const run = (name: string, args: string[], command = join(binDir, name)) => runAny(name, command, args);
  const stop = async () => {
    for (const hook of stopHooks.splice(0).reverse()) await hook().catch(() => undefined);
    for (const managed of [...processes].reverse()) await managed.stop();
    await net?.remove();
    await rm(runDir, { recursive: true, force: true });
    forgetRunDir();
  };

  try {
    if (network === 'sealed') {
      net = await createSealedNetwork();
      // The process runner's kube client loads @kubernetes/client-node's config module (seconds
      // on a loaded machine); loading it now, while the API server boots, takes it off the path.
      void Promise.all([import('@kubernetes/client-node/dist/config.js'), import('@kubernetes/client-node/dist/config_types.js'), import('js-yaml')]).catch(() => undefined);
    }
    phase('sealed network');
    const token = randomBytes(24).toString('hex');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = join(runDir, 'sa.key');
    await writeFile(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    await writeFile(join(runDir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`);

    // Inside the sealed namespace every port is ours; on loopback the OS picks free ones.
    const [etcdClient, etcdPeer, apiPort] = net ? [2379, 2380, 6443] : [await freePort(), await freePort(), await freePort()];
    const etcd = run('etcd', [
      `--data-dir=${join(runDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    if (!net) await waitFor('etcd /health', async () => {
      const response = await request(`http://127.0.0.1:${etcdClient}/health`);
      const body = await response.body.text();
      return body.includes('"health":"true"') ? true : undefined;
    }, { timeoutMs: 30_000 }).catch(async (error) => failWith(error, etcd));

    const pki = join(runDir, 'pki');
    await mkdir(pki);
    const cert = net
      ? await makeServingCertificate(pki, {
          ips: ['127.0.0.1', BRIDGE_IP, API_SERVICE_IP],
          dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
        })
      : undefined;
    const networkFlags = cert
      ? [
          // The webhooks (admission and CRD conversion) are dialled at their Pods' IPs.
          '--bind-address=0.0.0.0',
          `--advertise-address=${BRIDGE_IP}`,
          '--endpoint-reconciler-type=lease',
          '--enable-aggregator-routing=true',
          `--service-cluster-ip-range=${SERVICE_RANGE}`,
          `--tls-cert-file=${cert.certFile}`,
          `--tls-private-key-file=${cert.keyFile}`,
        ]
      : [
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          '--endpoint-reconciler-type=none',
          '--service-cluster-ip-range=10.0.0.0/24',
        ];
    const clientCa = await createClientCa(join(runDir, 'client-ca'));
    const apiserver = run('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--secure-port=${apiPort}`,
      ...networkFlags,
      `--cert-dir=${pki}`,
      `--token-auth-file=${join(runDir, 'tokens.csv')}`,
      `--client-ca-file=${clientCa.certFile}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      '--allow-privileged=true',
      '--profiling=false',
    ]);
    let server = `https://127.0.0.1:${apiPort}`;
    if (net) {
      // The host reaches the API only through the relay (the namespace has no link to the host).
      const socket = join(runDir, 'api.sock');
      const relayPort = await freePort();
      const relay = (name: string, args: string[], inside: boolean) => {
        const managed = inside ? runAny(name, process.execPath, [relayScript, ...args]) : startProcess({ name, command: process.execPath, args: [relayScript, ...args], logFile: join(logs, `${name}.log`) });
        if (!inside) processes.push(managed);
        return managed;
      };
      relay('relay-inside', ['unix-to-tcp', socket, '127.0.0.1', String(apiPort)], true);
      relay('relay-host', ['tcp-to-unix', String(relayPort), socket], false);
      server = `https://127.0.0.1:${relayPort}`;
    }
    const caPem = cert?.caPem ?? await waitFor('kube-apiserver serving certificate', async () => {
      const pem = await readFile(join(pki, 'apiserver.crt'), 'utf8').catch(() => '');
      return pem.includes('END CERTIFICATE') ? pem : undefined;
    }, { timeoutMs: 60_000 }).catch(async (error) => failWith(error, apiserver));
    const agent = new Agent({ connect: { ca: caPem } });
    try {
      await waitFor('kube-apiserver /readyz', async () => {
        const response = await request(`${server}/readyz`, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}` },
        });
        const body = await response.body.text();
        return response.statusCode === 200 && body.trim() === 'ok' ? true : undefined;
      }, { timeoutMs: 90_000, intervalMs: 250 }).catch(async (error) => failWith(error, apiserver));
    } finally {
      await agent.close();
    }

    phase('etcd + kube-apiserver /readyz');
    const kubeconfig = join(runDir, 'admin.kubeconfig');
    await writeFile(kubeconfig, renderKubeconfig({ server, token, caPem }));
    const kubectl = kubectlRunner({ binDir, kubeconfig });
    // The control plane's own components dial the API server inside the namespace.
    const kubeconfigInside = net ? join(runDir, 'admin-inside.kubeconfig') : kubeconfig;
    if (net) await writeFile(kubeconfigInside, renderKubeconfig({ server: `https://127.0.0.1:${apiPort}`, token, caPem }));

    // Needs only the API server: it runs beside our CRDs, the controller manager, kwok and the add-ons.
    const alongside = options.alongside?.({ kubectl, runDir, ...(knativeBinDir ? { knativeBinDir } : {}) });
    alongside?.catch(() => undefined); // awaited below; a failure stops the start there
    const ourCrds: string[] = [];
    for (const dir of options.crdDirs ?? []) ourCrds.push(...(await applyYamlDir(kubectl, dir)));
    if (options.knativeCrds) await installKnativeCrds(kubectl, runDir);
    if (options.knativeCrds) await waitCrdsEstablished(kubectl);
    // Ours by name, not `--all`: the CRDs `alongside` is applying meanwhile are its to wait for.
    else if (ourCrds.length > 0) await waitCrdsEstablished(kubectl, ourCrds);
    phase('CRDs established');
    for (const [index, name] of nodes.entries()) {
      const podCidr = net ? `10.244.${index + 1}.0/24` : `127.100.${subnetBase + index}.0/24`;
      await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(kwokNode(name, podCidr)) });
    }

    run('kube-controller-manager', [
      `--kubeconfig=${kubeconfigInside}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--controllers=*',
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${cert?.caFile ?? join(pki, 'apiserver.crt')}`,
      '--use-service-account-credentials=false',
      ...(options.controllerManagerArgs ?? []),
    ]);
    run('kube-scheduler', [
      `--kubeconfig=${kubeconfigInside}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
    ]);
    // kwok's own stages (copied from its module by build.sh), then the repo's (test/cluster/kwok-stages).
    const stages: string[] = [];
    for (const stageDir of [join(binDir, 'kwok-stages'), localStageDir]) {
      for (const file of (await readdir(stageDir)).filter((f) => f.endsWith('.yaml')).sort()) stages.push(`--config=${join(stageDir, file)}`);
    }
    run('kwok', [
      `--kubeconfig=${kubeconfigInside}`,
      '--manage-all-nodes=true',
      net ? '--cidr=10.244.1.0/24' : '--cidr=127.100.0.0/16',
      `--node-ip=${net ? BRIDGE_IP : '127.0.0.1'}`,
      '--node-lease-duration-seconds=40',
      ...stages,
    ]);

    await waitFor('kwok nodes Ready and untainted', async () => {
      const result = await kubectl.json<{ items: NodeLike[] }>(['get', 'nodes']);
      const ready = result.items.filter(
        (node) =>
          node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          !(node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')),
      );
      return ready.length === nodes.length ? true : undefined;
    }, { timeoutMs: 90_000 });
    phase('kcm, scheduler, kwok: nodes Ready');
    await waitFor('ServiceAccount default/default', async () => {
      const result = await kubectl.run(['get', 'serviceaccount', 'default', '-n', 'default']);
      return result.code === 0 ? true : undefined;
    }, { timeoutMs: 60_000 });

    phase('ServiceAccount default/default');
    let kubelet: Kubelet | undefined;
    let dnsReady: Promise<void> = Promise.resolve();
    const kubeletLog = createWriteStream(join(logs, 'kubelet.log'), { flags: 'a' });
    kubeletLog.on('error', () => undefined);
    stopHooks.unshift(async () => void kubeletLog.end());
    if (net && knativeBinDir) {
      const base = imageTable({ knativeBinDir, repoRoot, mediaStateDir: join(runDir, 'media'), sharedMedia: options.sharedMedia ?? false });
      const addons = await startSealedAddons({
        net, run: runAny, kubectl, kubeconfig, kubeconfigInside, caPem, knativeBinDir, nodes, runDir,
        // The process runner's own lines (Pods started, restarted, stopped) go to its log file.
        log: (line) => kubeletLog.write(`${new Date().toISOString()} ${line}\n`),
        images: (image) => options.images?.(image) ?? base(image),
        ...(options.podLines ? { podLines: options.podLines } : {}),
      });
      stopHooks.push(addons.stop);
      kubelet = addons.kubelet;
      dnsReady = addons.dns.then(() => phase('CoreDNS answering (in the background)'));
      dnsReady.catch(() => undefined);
      phase('kube-proxy, process runner, CoreDNS applied');
    }

    if (alongside) {
      await alongside;
      phase('work alongside the start');
    }
    log(`control plane ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)} s (run dir ${runDir})`);
    const info: ClusterInfo = {
      kubeconfig, server, token, caPem, binDir, runDir, nodes,
      pids: processes.map((p) => p.pid), clientCa,
      network,
      ...(net ? { netns: net.name } : {}),
    };
    const sealed = net && kubelet && knativeBinDir ? { net, kubelet, knativeBinDir, run: runAny, kubeconfigInside, dnsReady } : undefined;
    return {
      ...info, kubectl, createNamespace: (prefix) => createNamespace(kubectl, prefix), stop,
      ...(sealed ? { sealed } : {}),
      get pids() { return processes.map((p) => p.pid); },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

type NodeLike = {
  spec?: { taints?: { key: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
};

async function failWith(error: unknown, component: Managed): Promise<never> {
  const tail = await component.tail(30);
  throw new Error(`${component.name} did not become ready: ${String(error)}\n--- ${component.logFile}\n${tail}`);
}

export function renderKubeconfig({ server, token, caPem }: { server: string; token: string; caPem: string }): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'admin', namespace: 'default' } }],
    'current-context': 'local',
  };
  return JSON.stringify(config, null, 2);
}

/**
 * A Node that kwok manages; its pods get IPs in 127.100.<subnet>.0/24 (loopback), or in the
 * given CIDR (a sealed cluster's 10.244.x.0/24). Exported so a test can add a node of the same
 * shape (e.g. with a taint) to a running cluster.
 */
export function kwokNode(name: string, subnet: number | string, taints: { key: string; value?: string; effect: string }[] = []) {
  const podCidr = typeof subnet === 'string' ? subnet : `127.100.${subnet}.0/24`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR: podCidr, podCIDRs: [podCidr], ...(taints.length ? { taints } : {}) },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110', 'nvidia.com/gpu': '8' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110', 'nvidia.com/gpu': '8' },
    },
  };
}

/** Applies every manifest file in `dir`; returns the names of the CRDs among them. */
async function applyYamlDir(kubectl: Kubectl, dir: string): Promise<string[]> {
  const { parseAllDocuments } = await import('yaml');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
  const crds: string[] = [];
  for (const file of files.sort()) {
    await kubectl.ok(['apply', '--server-side', '-f', join(dir, file)]);
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      const object = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (object?.kind === 'CustomResourceDefinition' && object.metadata?.name) crds.push(object.metadata.name);
    }
  }
  return crds;
}

/**
 * Knative's CRDs carry a conversion webhook pointing at a Service; the API
 * server would dial its ClusterIP, which is off limits. Only one version is
 * served per CRD here, so conversion `None` is exact.
 */
async function installKnativeCrds(kubectl: Kubectl, runDir: string): Promise<void> {
  const out = join(runDir, 'knative-crds');
  await mkdir(out);
  for (const crd of await knativeCrds()) await writeFile(join(out, `${crd.metadata.name}.json`), JSON.stringify(crd));
  await kubectl.ok(['apply', '--server-side', '-f', out]);
}

/** The shared Knative CRDs whose file passes `only`, conversion set to None. */
async function knativeCrds(only = (_file: string) => true): Promise<{ metadata: { name: string }; spec: { conversion?: unknown } }[]> {
  const { parseAllDocuments } = await import('yaml');
  const crds = [];
  for (const file of (await readdir(knativeCrdDir)).filter((f) => f.endsWith('.yaml') && only(f))) {
    const docs = parseAllDocuments(await readFile(join(knativeCrdDir, file), 'utf8'));
    for (const crd of docs.map((d) => d.toJS()).filter((o) => o && o.kind === 'CustomResourceDefinition')) {
      crd.spec.conversion = { strategy: 'None' };
      crds.push(crd);
    }
  }
  return crds;
}

/**
 * The Knative Service CRD alone (a sealed cluster runs real Eventing, whose CRDs come from its
 * module; Serving cannot run, so its ksvc kind serves the stand-in with conversion None; its
 * Configuration, Revision and Route kinds are never made or read here, and each CRD costs the
 * API server seconds on a loaded machine), to be applied with Eventing's (extraCrds).
 */
export function servingCrds(): Promise<unknown[]> {
  return knativeCrds((file) => file === 'serving-service.yaml');
}

/** servingCrds applied on their own, Established (for callers that install Eventing without extraCrds). */
export async function installServingCrds(kubectl: Kubectl, runDir: string): Promise<void> {
  const file = join(runDir, 'serving-crds.json');
  await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: await servingCrds() }));
  await kubectl.ok(['apply', '--server-side', '-f', file]);
  await waitCrdsEstablished(kubectl);
}

/**
 * Until every CRD (or the CRDs named) is Established. `kubectl wait` fails outright on a CRD
 * whose status has no conditions yet (just created, on a loaded machine), so it is retried
 * within the bound.
 */
export async function waitCrdsEstablished(kubectl: Kubectl, names?: readonly string[]): Promise<void> {
  const which = names ? ['crd', ...names] : ['crd', '--all'];
  await waitFor('CRDs Established', async () => {
    const result = await kubectl.run(['wait', '--for=condition=Established', ...which, '--timeout=60s'], { timeoutMs: 70_000 });
    if (result.code !== 0) throw new Error(result.stderr.trim());
    return true;
  }, { timeoutMs: 90_000, intervalMs: 500 });
}

/** Marks namespaces made by createNamespace, so the test runner can remove them between files. */
export const TEST_NAMESPACE_LABEL = 'streamer-operator.test/namespace';

/** Deletes every namespace createNamespace made (and so their Pods and hostPorts). */
export async function deleteTestNamespaces(kubectl: Kubectl): Promise<void> {
  await kubectl(['delete', 'namespaces', '-l', TEST_NAMESPACE_LABEL, '--wait=true', '--timeout=180s']);
}

export async function createNamespace(kubectl: Kubectl, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
  await kubectl.ok(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: 'true' } } }),
  });
  await waitFor(`ServiceAccount ${name}/default`, async () => {
    const result = await kubectl.run(['get', 'serviceaccount', 'default', '-n', name]);
    return result.code === 0 ? true : undefined;
  }, { timeoutMs: 30_000 });
  return name;
}
