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

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  webhooks?: { clientConfig?: { caBundle?: string } }[];
};

const PARTS = ['core', 'mt-channel-broker', 'in-memory-channel'];

async function yamlFilesUnder(dir: string): Promise<string[]> {
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

export async function installKnativeEventing({ kubectl, knativeBinDir, runDir, log }: {
  kubectl: Kubectl;
  knativeBinDir: string;
  runDir: string;
  log: (line: string) => void;
}): Promise<void> {
  const started = Date.now();
  const objects = withFeatures(await eventingManifests(knativeBinDir));
  const all = [...objects, ...releaseOnlyConfigMaps(objects)];
  const groups = [
    all.filter((o) => o.kind === 'Namespace'),
    all.filter((o) => o.kind === 'CustomResourceDefinition'),
    all.filter((o) => o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition'),
  ];
  for (const [index, items] of groups.entries()) {
    const file = join(runDir, `knative-eventing-${index}.json`);
    await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    await kubectl.ok(['apply', '--server-side', '--force-conflicts', '-f', file], { timeoutMs: 180_000 });
    if (index === 1) await waitCrdsEstablished(kubectl);
  }
  log(`knative eventing: ${all.length} objects applied`);
  await waitForWebhooks(kubectl, all);
  log(`knative eventing: webhooks serving in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Until every Knative webhook configuration and conversion webhook carries its caBundle. */
async function waitForWebhooks(kubectl: Kubectl, objects: Manifest[]): Promise<void> {
  const configs = objects.filter((o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration');
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition' && (o.spec?.conversion as { strategy?: string } | undefined)?.strategy === 'Webhook');
  await waitFor('the Knative webhooks to set their caBundle', async () => {
    for (const config of configs) {
      const live = await kubectl.json<Manifest>(['get', config.kind.toLowerCase(), config.metadata.name]);
      if (!(live.webhooks ?? []).every((w) => w.clientConfig?.caBundle)) return undefined;
    }
    for (const crd of crds) {
      const live = await kubectl.json<{ spec: { conversion?: { webhook?: { clientConfig?: { caBundle?: string } } } } }>(['get', 'crd', crd.metadata.name]);
      if (!live.spec.conversion?.webhook?.clientConfig?.caBundle) return undefined;
    }
    return true;
  }, { timeoutMs: 180_000, intervalMs: 1_000 });
}
