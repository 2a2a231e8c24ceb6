// What a node and kubeadm's addons add to a sealed cluster so Pods can talk to Services:
// kube-proxy in nftables mode (the real one, on the "node" = the cluster namespace), the process
// runner (kubelet.ts), and CoreDNS as the cluster DNS: a Deployment in kube-system behind the
// kube-dns Service at 10.96.0.10, run by the runner like any Pod, reading the Kubernetes API with
// its own ServiceAccount.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kubectl } from './kubectl.ts';
import { startKubelet, type ImageTable, type Kubelet } from './kubelet.ts';
import { COREDNS_IMAGE } from './images.ts';
import { API_SERVICE_IP, DNS_SERVICE_IP, POD_RANGE, type SealedNetwork } from './netns.ts';
import type { Managed } from './processes.ts';
import { waitFor } from './wait.ts';

export type SealedAddons = {
  kubelet: Kubelet;
  kubeProxy: Managed;
  /**
   * Resolves once CoreDNS answers through its ClusterIP. Not awaited by startSealedAddons: what
   * comes next (applying objects, the API server dialling webhooks at Pod IPs, Pods dialling
   * 10.96.0.1) needs no DNS, so the caller overlaps it and waits before anything resolves names.
   */
  dns: Promise<void>;
  stop(): Promise<void>;
};

export async function startSealedAddons(options: {
  net: SealedNetwork;
  run(name: string, command: string, args: string[]): Managed;
  kubectl: Kubectl;
  kubeconfig: string;
  kubeconfigInside: string;
  caPem: string;
  knativeBinDir: string;
  images: ImageTable;
  nodes: string[];
  runDir: string;
  log: (line: string) => void;
  podLines?: (pod: string, line: string) => void;
}): Promise<SealedAddons> {
  const config = join(options.runDir, 'kube-proxy.yaml');
  await writeFile(
    config,
    JSON.stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: options.kubeconfigInside },
      mode: 'nftables',
      hostnameOverride: options.nodes[0],
      clusterCIDR: POD_RANGE,
      healthzBindAddress: '127.0.0.1:10256',
      metricsBindAddress: '127.0.0.1:10249',
      // The namespace's conntrack table is the kernel's; kube-proxy must not try to resize it.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    }),
  );
  const kubeProxy = options.run('kube-proxy', join(options.knativeBinDir, 'kube-proxy'), [`--config=${config}`]);
  // CoreDNS's objects go in while the process runner starts (its first sync runs their Pod).
  const coreDns = options.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: coreDnsObjects() }) });
  coreDns.catch(() => undefined); // awaited below
  const kubelet = await startKubelet({
    kubeconfig: options.kubeconfig,
    caPem: options.caPem,
    net: options.net,
    nodes: options.nodes,
    images: options.images,
    runDir: options.runDir,
    log: options.log,
    ...(options.podLines ? { onLine: options.podLines } : {}),
  });
  let stopped = false;
  const stop = async () => {
    stopped = true;
    await kubelet.stop();
    await kubeProxy.stop();
  };
  try {
    await coreDns;
  } catch (error) {
    await stop();
    throw error;
  }
  const dns = waitForDns(options.net, () => stopped);
  dns.catch(() => undefined); // reported to whoever awaits it
  return { kubelet, kubeProxy, dns, stop };
}

async function waitForDns(net: SealedNetwork, stopped: () => boolean): Promise<void> {
  // A real lookup from inside the namespace: CoreDNS behind its ClusterIP (kube-proxy's DNAT)
  // answering from the API (the kubernetes Service's lease-reconciled endpoint). One probe
  // process makes a lookup every 200 ms (a process per try costs more than the wait).
  const probe = `const r = new (require('node:dns').promises.Resolver)({ timeout: 500, tries: 1 }); r.setServers(['${DNS_SERVICE_IP}']);
    const deadline = Date.now() + 20000;
    const once = () => r.resolve4('kubernetes.default.svc.cluster.local').then((a) => console.log(a.join(',')),
      () => (Date.now() < deadline ? setTimeout(once, 200) : (process.exitCode = 1)));
    once();`;
  await waitFor('CoreDNS answering on 10.96.0.10 (through kube-proxy)', async () => {
    if (stopped()) throw new Error('the cluster stopped');
    const [command, args] = net.exec(process.execPath, ['-e', probe]);
    const out = await new Promise<string>((resolve) => execFile(command, args, { timeout: 25_000 }, (error, stdout) => resolve(error ? '' : stdout)));
    return out.trim() === API_SERVICE_IP || stopped() ? true : undefined;
  }, { timeoutMs: 90_000, intervalMs: 200 });
  if (stopped()) throw new Error('the cluster stopped before CoreDNS answered');
}

const COREFILE = `.:53 {
    errors
    ready :8181
    health :8080
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    template ANY ANY {
        rcode NXDOMAIN
    }
    cache 5
    loop
}
`;

function coreDnsObjects() {
  const meta = (name: string) => ({ name, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('coredns') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('coredns'), data: { Corefile: COREFILE } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('coredns'),
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            serviceAccountName: 'coredns',
            containers: [{
              name: 'coredns',
              image: COREDNS_IMAGE,
              args: ['-conf', '/etc/coredns/Corefile'],
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns' }],
              ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }],
            }],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('kube-dns'),
      spec: {
        clusterIP: DNS_SERVICE_IP,
        selector: { 'k8s-app': 'kube-dns' },
        ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }],
      },
    },
  ];
}
