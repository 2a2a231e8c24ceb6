// Per-request cost of the Kubernetes transport: the same GET of one ConfigMap, sequential,
// over one kept-alive connection, through
//   - our client on the KubeConfig transport (lib/kube/config.ts: KubeConfig asked for the
//     credentials and TLS material on every request, so expiring ones are refreshed),
//   - our client on a fixed transport (the token and CA read once: what the hand-written
//     kubeconfig parser did before),
//   - client-node's own generated client (CoreV1Api.readNamespacedConfigMap, its fetch on undici),
// and the cost of the transport's headers() call alone. Interleaved in rounds so drift in the
// machine's load spreads over all of them.
import { Agent } from 'undici';
import { createKubeClient, type KubeTransport } from '../lib/kube/client.ts';
import { loadKubeconfig, transportFromKubeConfig } from '../lib/kube/config.ts';
import { renderTable } from './markdown.ts';
import { ms, percentile } from './stats.ts';

export async function benchKubeRequest({
  kubeconfig,
  server,
  token,
  caPem,
  namespace,
  requests = 300,
  progress = () => undefined,
}: {
  kubeconfig: string;
  server: string;
  token: string;
  caPem: string;
  namespace: string;
  requests?: number;
  progress?: (line: string) => void;
}): Promise<{ markdown: string; verdict: string }> {
  const kubeConfigTransport = await transportFromKubeConfig(await loadKubeconfig(kubeconfig));
  const fixed: KubeTransport = { server, dispatcher: new Agent({ connect: { ca: caPem } }), headers: async () => ({ authorization: `Bearer ${token}` }) };
  const ours = createKubeClient({ transport: kubeConfigTransport, fieldManager: 'bench' });
  const plain = createKubeClient({ transport: fixed, fieldManager: 'bench' });
  await ours.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench-request', namespace }, data: { key: 'value' } });
  const key = { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'bench-request' } as const;

  const clientNode = await import('@kubernetes/client-node');
  const kc = new clientNode.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(clientNode.CoreV1Api);

  const variants: [string, () => Promise<unknown>][] = [
    ['our client, KubeConfig transport (credentials asked per request)', () => ours.get(key)],
    ['our client, fixed token and CA (the former parser)', () => plain.get(key)],
    ['client-node CoreV1Api.readNamespacedConfigMap', () => core.readNamespacedConfigMap({ name: key.name, namespace })],
    ['KubeConfig transport headers() alone', () => kubeConfigTransport.headers()],
  ];
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (const [, fn] of variants) for (let i = 0; i < 20; i++) await fn(); // connections and JIT warm
  const rounds = 10;
  for (let round = 0; round < rounds; round++) {
    progress(`kube requests: round ${round + 1}/${rounds}`);
    for (const [name, fn] of variants) {
      const list = samples.get(name)!;
      for (let i = 0; i < requests / rounds; i++) {
        const started = performance.now();
        await fn();
        list.push(performance.now() - started);
      }
    }
  }
  const us = (value: number) => (value * 1000).toFixed(0);
  const rows = variants.map(([name]) => {
    const list = samples.get(name)!;
    return [name, String(list.length), ms(percentile(list, 50)), ms(percentile(list, 90)), ms(percentile(list, 99)), us(percentile(list, 50))];
  });
  const markdown = `Sequential requests over one kept-alive connection to the API server of the sealed cluster, through its relay on 127.0.0.1 (test/cluster/relay.ts: one more hop than the API server on loopback before), ${requests} per row in ${rounds} interleaved rounds, after 20 warm-up requests each.\n\n${renderTable({ head: ['request path', 'n', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'p50 (µs)'], rows })}`;
  const p50 = (name: string) => percentile(samples.get(name)!, 50);
  const oursMs = p50(variants[0]![0]);
  const theirsMs = p50(variants[2]![0]);
  const verdict = `per-request GET p50: our client ${ms(oursMs)} ms, client-node's generated client ${ms(theirsMs)} ms`;
  await (fixed.dispatcher as Agent).close();
  return { markdown, verdict };
}
