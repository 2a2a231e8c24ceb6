// The one stand-in left for Knative: Knative Serving cannot run here (no networking layer can be
// fetched), so this plays the Serving controller for a Knative Service: it runs the Service's
// template (image, env, ServiceAccount, port, probes, resources) as a Deployment with N replicas
// behind a plain Service, and writes that Service's address into the ksvc's status, as Serving
// would once its Route is ready. Nothing else of knative/ is rewritten.
import type { Kubectl } from '../cluster/kubectl.ts';

type Container = { name?: string; image: string; ports?: { containerPort: number; name?: string }[]; env?: { name: string; value?: string }[]; [key: string]: unknown };
type KnativeService = {
  metadata: { name: string; namespace: string; generation?: number };
  spec: { template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { containers: Container[]; containerConcurrency?: number; timeoutSeconds?: number; [key: string]: unknown } } };
};

export const STANDIN_SUFFIX = '-ksvc-standin';

/** The Deployment and Service that serve a ksvc here, and the address they give it. */
export function standInFor(ksvc: KnativeService, replicas: number) {
  const { name, namespace } = ksvc.metadata;
  const { containerConcurrency: _concurrency, timeoutSeconds: _timeout, containers, ...podSpec } = ksvc.spec.template.spec;
  const selector = { 'serving.knative.dev/service': name };
  const port = containers[0]?.ports?.[0]?.containerPort ?? 8080;
  const revision = `${name}-00001`;
  // What Serving adds to the user container: its name, PORT and the K_* identity variables.
  const servingEnv = [
    { name: 'PORT', value: String(port) },
    { name: 'K_SERVICE', value: name },
    { name: 'K_CONFIGURATION', value: name },
    { name: 'K_REVISION', value: revision },
  ];
  const standIn = `${name}${STANDIN_SUFFIX}`;
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: standIn, namespace, labels: selector },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...ksvc.spec.template.metadata?.labels, ...selector, 'serving.knative.dev/revision': revision } },
        spec: {
          ...podSpec,
          containers: containers.map((c, i) => ({ ...c, name: c.name ?? (i === 0 ? 'user-container' : `container-${i}`), env: [...(c.env ?? []), ...servingEnv] })),
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: standIn, namespace, labels: selector },
    spec: { selector, ports: [{ name: 'http', port: 80, targetPort: port }] },
  };
  const url = `http://${standIn}.${namespace}.svc.cluster.local`;
  const now = new Date().toISOString();
  const ready = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  const status = {
    observedGeneration: ksvc.metadata.generation ?? 1,
    url,
    address: { url },
    latestCreatedRevisionName: revision,
    latestReadyRevisionName: revision,
    conditions: [ready('ConfigurationsReady'), ready('Ready'), ready('RoutesReady')],
  };
  return { deployment, service, status, url };
}

/**
 * What a test puts in front of a ksvc's stand-in (e.g. its delivery proxy): more objects to
 * apply with it, and the address the ksvc then publishes instead of the stand-in's own.
 */
export type Front = (ksvc: string, standInUrl: string) => { url: string; objects: unknown[] } | undefined;

/**
 * Serves every ksvc of `namespace` with `replicas` replicas; returns their stand-ins' addresses
 * by name. One apply for all the objects and one status write per ksvc (a kubectl call costs
 * seconds on a loaded machine).
 */
export async function serveKnativeServices(kubectl: Kubectl, namespace: string, replicas: number, front: Front = () => undefined): Promise<Record<string, string>> {
  const list = await kubectl.json<{ items: KnativeService[] }>(['get', 'services.serving.knative.dev', '-n', namespace]);
  const urls: Record<string, string> = {};
  const objects: unknown[] = [];
  const statuses: [string, unknown][] = [];
  for (const ksvc of list.items) {
    const { deployment, service, status, url } = standInFor(ksvc, replicas);
    const fronted = front(ksvc.metadata.name, url);
    objects.push(deployment, service, ...(fronted?.objects ?? []));
    statuses.push([ksvc.metadata.name, fronted ? { ...status, url: fronted.url, address: { url: fronted.url } } : status]);
    urls[ksvc.metadata.name] = url;
  }
  await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  await Promise.all(statuses.map(([name, status]) =>
    kubectl.ok(['patch', 'services.serving.knative.dev', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })])));
  return urls;
}
