// Reads the event sources from knative/ (ApiServerSources and the PingSource)
// so the sandbox runs the same configuration it deploys.
import { readFile } from 'node:fs/promises';
import { yamlFilesUnder } from '../cluster/knative-eventing.ts';
import { parseAllDocuments } from 'yaml';
import type { AdapterOptions } from '../events/adapter.ts';

type Manifest = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> };

/** Every YAML document under `dir`, recursively, kustomization files excepted. */
export async function readManifests(dir: string): Promise<Manifest[]> {
  const files = (await yamlFilesUnder(dir)).filter((f) => !/\/kustomization\.ya?ml$/.test(f));
  const docs: Manifest[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      const value = doc.toJS() as Manifest | null;
      if (value && typeof value === 'object') docs.push(value);
    }
  }
  return docs;
}

type SelectorSpec = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

/** A metav1.LabelSelector as the selector string the adapter takes. */
export function selectorString(selector: SelectorSpec | undefined): string | undefined {
  if (!selector) return undefined;
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : undefined;
}

export type SourceConfig = Omit<AdapterOptions, 'binDir' | 'kubeconfig' | 'sink'>;

/**
 * Adapter options for every ApiServerSource in the manifests: all namespaces for
 * `namespaceSelector: {}`, the source's own namespace without one (as Knative's controller does).
 */
export function apiServerSources(manifests: Manifest[]): SourceConfig[] {
  return manifests
    .filter((m) => m.kind === 'ApiServerSource')
    .map((m) => {
      const spec = m.spec as {
        mode?: 'Resource' | 'Reference';
        resources: { apiVersion: string; kind: string; selector?: SelectorSpec }[];
        owner?: { apiVersion?: string; kind: string };
        selector?: SelectorSpec;
        namespaceSelector?: SelectorSpec;
      };
      return {
        name: m.metadata?.name ?? 'apiserversource',
        ...(spec.namespaceSelector ? {} : { namespaces: [m.metadata?.namespace ?? 'default'] }),
        mode: spec.mode ?? 'Reference',
        resources: spec.resources.map((r) => {
          const selector = selectorString(r.selector ?? spec.selector);
          return { apiVersion: r.apiVersion, kind: r.kind, ...(selector ? { selector } : {}) };
        }),
        ...(spec.owner ? { owner: spec.owner } : {}),
      };
    });
}
