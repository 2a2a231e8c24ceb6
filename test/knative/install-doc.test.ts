// docs/install.md stays true to the manifests: the routing table is what the Triggers do, the
// objects its commands name exist, the paths it applies are kustomizations, and the builder it
// names is func.yaml's.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { buildBinaries } from '../cluster/binaries.ts';
import { repoRoot } from '../cluster/index.ts';
import { kubectlRunner } from '../cluster/kubectl.ts';
import { byKind, knativeDir, kustomize, OPERATOR_NAMESPACE } from './manifests.ts';
import { startTriggerRouter, subscriberPath } from './trigger-filter.ts';

const doc = await readFile(join(repoRoot, 'docs', 'install.md'), 'utf8');
const kubectl = kubectlRunner({ binDir: await buildBinaries(() => {}), kubeconfig: '/dev/null' });
const manifests = await kustomize(kubectl, knativeDir);
const triggers = byKind(manifests, 'Trigger');
const router = await startTriggerRouter(triggers);
const shell = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');

const install = suite('docs/install.md');

install('its routing table is what the Triggers in knative/ do (Knative\'s own filter code)', async () => {
  const section = doc.slice(doc.indexOf('## Event routing'), doc.indexOf('## Delivery'));
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  assert.ok(rows.length >= 10, 'the table has its rows');
  const functions = ['reconcile-children', 'push-config', 'probe-status'];
  const wrong: string[] = [];
  for (const row of rows) {
    const cells = row.split('|').slice(1, -1).map((c) => c.trim());
    const type = `dev.knative.${/`([^`]+)`/.exec(cells[0]!)![1]}`;
    const kinds = cells[1] === '—' ? [undefined] : cells[1]!.split(',').map((k) => k.trim());
    const documented = functions.filter((_, i) => cells[2 + i] === '✓');
    for (const kind of kinds) {
      const attributes: Record<string, string> = { specversion: '1.0', id: '1', source: 's', type, ...(kind ? { kind } : {}) };
      const [names = []] = await router.route([attributes]);
      const routed = triggers.filter((t) => names.includes(t.metadata.name)).map((t) => subscriberPath(t).slice(1));
      const sorted = (a: string[]) => [...a].sort().join(',');
      if (sorted(routed) !== sorted(documented)) wrong.push(`${type} ${kind}: doc says [${documented}], Triggers do [${routed}]`);
    }
  }
  router.stop();
  assert.equal(wrong, []);
});

install('every object its kubectl commands (in blocks and tables) name exists in knative/', () => {
  const names = new Set(manifests.map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`));
  const alias: Record<string, string> = { ksvc: 'service', pingsource: 'pingsource', trigger: 'trigger', apiserversource: 'apiserversource', broker: 'broker' };
  const mentioned = [...doc.matchAll(/kubectl (?:describe|patch|get) (ksvc|pingsource|trigger|apiserversource|broker) ([a-z0-9-]+)/g)];
  assert.ok(mentioned.length >= 3);
  for (const [, kind, name] of mentioned) assert.ok(names.has(`${alias[kind!]}/${name}`), `${kind} ${name}`);
  for (const [, ns] of doc.matchAll(/--namespace (streamer-operator-[a-z-]+)/g)) assert.is(ns, OPERATOR_NAMESPACE);
});

install('every path it applies with -k is a kustomization', () => {
  const paths = [...shell.matchAll(/ -k (\S+)/g)].map((m) => m[1]!);
  assert.ok(paths.includes('knative/') && paths.includes('knative/base/'));
  for (const path of paths) assert.ok(existsSync(join(repoRoot, path, 'kustomization.yaml')), path);
});

install('its EVENT_AUTH patch points at EVENT_AUTH in the Knative Service', () => {
  const ksvc = manifests.find((m) => m.kind === 'Service' && m.apiVersion.startsWith('serving.knative.dev'))! as unknown as { spec: { template: { spec: { containers: { env: { name: string }[] }[] } } } };
  const index = /containers\/0\/env\/(\d+)\/name","value":"EVENT_AUTH"/.exec(doc)?.[1];
  assert.ok(index, 'the patch is in the guide');
  assert.is(ksvc.spec.template.spec.containers[0]!.env[Number(index)]!.name, 'EVENT_AUTH');
  assert.ok(doc.includes(`/env/${index}/value","value":"none"`));
});

install('it names the builder func.yaml uses', async () => {
  const funcYaml = parse(await readFile(join(repoRoot, 'func.yaml'), 'utf8')) as { build: { builderImages: { pack: string } } };
  assert.ok(doc.includes(funcYaml.build.builderImages.pack));
});

install.run();
