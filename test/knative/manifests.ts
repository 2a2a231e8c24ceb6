// The install manifests as kustomize renders them (the objects `kubectl apply -k` sends), and
// the ApiServerSource manifests turned into the real adapter's configuration, the way the
// ApiServerSource controller configures its Deployment (eventing apiserversource.go,
// resources/receive_adapter.go).
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { AdapterOptions, AdapterResource } from '../events/adapter.ts';
import { buildKnativeBinaries } from '../cluster/binaries.ts';
import { repoRoot, waitCrdsEstablished } from '../cluster/index.ts';
import type { Kubectl } from '../cluster/kubectl.ts';

export const knativeDir = join(repoRoot, 'knative');
export const knativeBaseDir = join(knativeDir, 'base');
export const OPERATOR_NAMESPACE = 'streamer-operator-system';

/**
 * The EventPolicy CRD (knative/base/event-policy.yaml), from the pinned Eventing module's own
 * config/ (build-knative.sh; ../shared/upstream/knative-crds has no copy).
 */
export async function installEventPolicyCrd(kubectl: Kubectl): Promise<void> {
  const eventingDir = await buildKnativeBinaries(() => undefined);
  await kubectl.ok(['apply', '--server-side', '-f', join(eventingDir, 'knative-config', 'core', 'resources', 'eventpolicy.yaml')]);
  await waitCrdsEstablished(kubectl);
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

/** `kubectl kustomize <dir>`, parsed. */
export async function kustomize(kubectl: Kubectl, dir: string): Promise<Manifest[]> {
  const docs = parseAllDocuments(await kubectl.ok(['kustomize', dir]));
  return docs.map((doc) => doc.toJS() as Manifest).filter((m) => m && typeof m === 'object');
}

export function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

export function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the manifests`);
  return found;
}

type LabelSelector = { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };

export type ApiServerSourceSpec = {
  mode?: string;
  serviceAccountName?: string;
  namespaceSelector?: LabelSelector;
  owner?: { apiVersion?: string; kind: string };
  resources: { apiVersion: string; kind: string; selector?: LabelSelector }[];
  ceOverrides?: { extensions?: Record<string, string> };
  sink?: { ref?: { apiVersion: string; kind: string; name: string; namespace?: string }; uri?: string };
};

export function sourceSpec(source: Manifest): ApiServerSourceSpec {
  return source.spec as ApiServerSourceSpec;
}

function selectorString(selector: LabelSelector | undefined, where: string): string | undefined {
  if (!selector) return undefined;
  if (selector.matchExpressions?.length) throw new Error(`${where}: matchExpressions are not translated here`);
  const pairs = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  return pairs.length > 0 ? pairs.join(',') : undefined;
}

/**
 * The adapter configuration an ApiServerSource manifest produces. Namespaces: an empty
 * namespaceSelector is every namespace (one cluster-wide watch); no selector is the source's own
 * namespace. A selector with labels depends on the cluster's namespaces and is refused here.
 */
export function adapterOptionsFor(source: Manifest): Omit<AdapterOptions, 'binDir' | 'kubeconfig' | 'sink'> {
  const spec = sourceSpec(source);
  const where = `ApiServerSource ${source.metadata.name}`;
  if (spec.mode !== 'Resource' && spec.mode !== 'Reference') throw new Error(`${where}: mode must be Resource or Reference, not ${spec.mode}`);
  let namespaces: string[] | undefined;
  if (!spec.namespaceSelector) namespaces = [source.metadata.namespace ?? 'default'];
  else if (selectorString(spec.namespaceSelector, where) !== undefined) throw new Error(`${where}: a labelled namespaceSelector is not translated here`);
  const resources: AdapterResource[] = spec.resources.map((r) => {
    const selector = selectorString(r.selector, where);
    return { apiVersion: r.apiVersion, kind: r.kind, ...(selector ? { selector } : {}) };
  });
  return {
    name: source.metadata.name,
    mode: spec.mode,
    resources,
    ...(namespaces ? { namespaces } : {}),
    ...(spec.owner ? { owner: spec.owner } : {}),
    ...(spec.ceOverrides?.extensions ? { extensions: spec.ceOverrides.extensions } : {}),
  };
}

type PingSourceLike = { kind?: string; metadata?: { name?: string }; spec?: unknown };

/** The PingSource's schedule as an interval (for a harness that ticks in its place): `* * * * *` is a minute; minute steps and `@every 30s` style work too. */
export function pingInterval(manifests: PingSourceLike[]): { name: string; intervalMs: number; data: string } | undefined {
  const ping = manifests.find((m) => m.kind === 'PingSource');
  if (!ping) return undefined;
  const spec = (ping.spec ?? {}) as { schedule?: string; data?: string };
  const schedule = spec.schedule ?? '* * * * *';
  const every = /^@every (\d+)(s|m|h)$/.exec(schedule);
  const step = /^\*\/(\d+) \* \* \* \*$/.exec(schedule);
  const intervalMs = every
    ? Number(every[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[every[2] as 's' | 'm' | 'h']
    : step
      ? Number(step[1]) * 60_000
      : 60_000;
  return { name: ping.metadata?.name ?? 'resync', intervalMs, data: spec.data ?? '{}' };
}
