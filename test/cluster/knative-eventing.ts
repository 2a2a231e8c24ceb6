// Installs real Knative Eventing v0.49.2 into a sealed cluster, from the pinned module's own
// config/ (copied into the build cache by build-knative.sh): core, the MT channel-based broker and
// the in-memory channel, CRDs with their conversion webhooks intact. Its Deployments become kwok
// Pods that the process runner starts as the built commands. Then waits until the webhook has
// taken over its configurations (caBundle set), so nothing Knative is applied before it answers.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { waitCrdsEstablished } from './index.ts';
import type { Kubectl } from './kubectl.ts';
import { waitFor } from './wait.ts';
import { phaseClock } from './phases.ts';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  webhooks?: { clientConfig?: { caBundle?: string } }[];
};

const PARTS = ['core', 'mt-channel-broker', 'in-memory-channel'];

/** Every YAML file under `dir`, recursively, in name order (editor backups skipped). */
export async function yamlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await yamlFilesUnder(path)));
    else if (/\.ya?ml$/.test(entry.name) && !entry.name.includes('~')) files.push(path);
  }
  return files;
}

/** Every object of the module's config/ parts, in file order. */
export async function eventingManifests(knativeBinDir: string): Promise<Manifest[]> {
  const objects: Manifest[] = [];
  for (const part of PARTS) {
    for (const file of await yamlFilesUnder(join(knativeBinDir, 'knative-config', part))) {
      for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
        const value = doc.toJS() as Manifest | null;
        if (value?.kind) objects.push(value);
      }
    }
  }
  return objects;
}

/**
 * The ConfigMaps the release YAML ships but config/ does not (the controller's env reads image
 * names from them). Their images are not built here, so each names an image no program maps to.
 */
export function releaseOnlyConfigMaps(objects: Manifest[]): Manifest[] {
  const present = new Set(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
  const wanted = new Map<string, Set<string>>();
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    const ref = (value as { configMapKeyRef?: { key: string; name: string } }).configMapKeyRef;
    if (ref && !present.has(ref.name)) wanted.set(ref.name, (wanted.get(ref.name) ?? new Set()).add(ref.key));
    for (const child of Object.values(value)) visit(child);
  };
  visit(objects.filter((o) => o.kind === 'Deployment'));
  return [...wanted].map(([name, keys]) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'knative-eventing' },
    data: Object.fromEntries([...keys].map((key) => [key, `ko://knative.dev/eventing/not-built/${key}`])),
  }) as Manifest);
}

/**
 * The one setting changed from the module's config/: OIDC sender identity on (config-features
 * authentication-oidc), as docs/install.md tells a user to set it; every delivery then carries
 * a token the functions verify.
 */
export function withFeatures(objects: Manifest[]): Manifest[] {
  return objects.map((o) =>
    o.kind === 'ConfigMap' && o.metadata.name === 'config-features'
      ? ({ ...o, data: { ...(o as { data?: Record<string, string> }).data, 'authentication-oidc': 'enabled' } } as Manifest)
      : o);
}

/**
 * Applies the namespace and CRDs (with `extraCrds`, e.g. Serving's), waits until they are
 * Established, then the rest: the objects the Deployments' Pods need (ServiceAccounts, RBAC,
 * ConfigMaps, Secrets, Services, webhook configurations) in parallel applies, the Deployments
 * last (a Pod whose ServiceAccount does not exist yet is refused, and its ReplicaSet backs off).
 */
export async function installKnativeEventing({ kubectl, knativeBinDir, runDir, log, extraCrds = [] }: {
  kubectl: Kubectl;
  knativeBinDir: string;
  runDir: string;
  log: (line: string) => void;
  extraCrds?: unknown[];
}): Promise<void> {
  const started = Date.now();
  const phase = phaseClock('knative-eventing', log);
  const objects = withFeatures(await eventingManifests(knativeBinDir));
  const all = [...objects, ...releaseOnlyConfigMaps(objects)];
  const apply = async (name: string, items: unknown[]) => {
    const file = join(runDir, `knative-eventing-${name}.json`);
    await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    await kubectl.ok(['apply', '--server-side', '--force-conflicts', '-f', file], { timeoutMs: 180_000 });
  };
  const first = (o: Manifest) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition';
  await apply('crds', [...all.filter(first), ...extraCrds]);
  await waitCrdsEstablished(kubectl);
  phase('apply Namespace + CRDs, Established');
  const rest = all.filter((o) => !first(o) && o.kind !== 'Deployment');
  const streams = 3;
  await Promise.all(Array.from({ length: streams }, (_, i) => apply(`rest-${i}`, rest.filter((_o, j) => j % streams === i))));
  await apply('deployments', all.filter((o) => o.kind === 'Deployment'));
  phase('apply the rest (3 in parallel), then the Deployments');
  log(`knative eventing: ${all.length + extraCrds.length} objects applied`);
  await waitForWebhooks(kubectl, all);
  phase('webhooks set their caBundle');
  log(`knative eventing: webhooks serving in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Until every Knative webhook configuration and conversion webhook carries its caBundle (one list call a round). */
async function waitForWebhooks(kubectl: Kubectl, objects: Manifest[]): Promise<void> {
  const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;
  const configs = new Set(objects.filter((o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration').map(key));
  const crds = new Set(objects.filter((o) => o.kind === 'CustomResourceDefinition' && (o.spec?.conversion as { strategy?: string } | undefined)?.strategy === 'Webhook').map(key));
  type Live = Manifest & { spec?: { conversion?: { webhook?: { clientConfig?: { caBundle?: string } } } } };
  await waitFor('the Knative webhooks to set their caBundle', async () => {
    const live = (await kubectl.json<{ items: Live[] }>(['get', 'mutatingwebhookconfigurations,validatingwebhookconfigurations,customresourcedefinitions'])).items;
    const served = new Set(live.filter((o) =>
      configs.has(key(o)) ? (o.webhooks ?? []).every((w) => w.clientConfig?.caBundle)
        : crds.has(key(o)) ? Boolean(o.spec?.conversion?.webhook?.clientConfig?.caBundle) : false).map(key));
    return [...configs, ...crds].every((k) => served.has(k)) ? true : undefined;
  }, { timeoutMs: 180_000, intervalMs: 250 });
}
