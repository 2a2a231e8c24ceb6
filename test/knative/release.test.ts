// `npm run release`: the one-file install manifest, applied the way the install guide says
// (`kubectl apply --server-side -f`) on the real control plane with the Knative CRDs. Every
// object lands, labelled with the version; the Knative Service runs the given image. What this
// file created is removed afterwards (the Streamer CRD and its policy predate it: they stay).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { parseImage, VERSION_LABEL } from '../../scripts/release.ts';
import { repoRoot } from '../cluster/index.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { OPERATOR_NAMESPACE, type Manifest } from './manifests.ts';

const run = promisify(execFile);
const cluster = await useCluster();
const kubectl = cluster.kubectl;
const out = await mkdtemp(join(tmpdir(), 'release-test-'));
const VERSION = '9.8.7-rc.1';
const IMAGE = '127.0.0.1:5000/acme/streamer-operator:9.8.7-rc.1';

const release = suite('npm run release');
let path = '';
let objects: Manifest[] = [];
const ref = (o: Manifest) => [o.kind, o.metadata.name, o.metadata.namespace ?? ''] as const;
const existedBefore = new Set<string>();

release.before(async () => {
  await waitFor(`namespace ${OPERATOR_NAMESPACE} not terminating`, async () => {
    const phase = await kubectl(['get', 'namespace', OPERATOR_NAMESPACE, '-o', 'jsonpath={.status.phase}']);
    return phase.code !== 0 || phase.stdout === 'Active' ? true : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250 });
  const { stdout } = await run(process.execPath, [join(repoRoot, 'scripts', 'release.ts'), '--image', IMAGE, '--version', VERSION, '--out', out], {
    cwd: repoRoot, env: { ...process.env, STREAMER_OPERATOR_BIN_DIR: cluster.binDir },
  });
  path = stdout.trim().split('\n').pop()!;
  objects = parseAllDocuments(await readFile(path, 'utf8')).map((d) => d.toJS() as Manifest).filter(Boolean);
  const present = await kubectl.json<{ items: Manifest[] }>(['get', '-f', path, '--ignore-not-found']);
  for (const object of present.items) existedBefore.add(ref(object).join('/'));
});

release.after(async () => {
  const created = objects.filter((o) => !existedBefore.has(ref(o).join('/')) && o.kind !== 'Namespace' && !o.metadata.namespace);
  for (const object of created) await kubectl(['delete', object.kind, object.metadata.name, '--ignore-not-found', '--wait=false']);
  if (!existedBefore.has(`Namespace/${OPERATOR_NAMESPACE}/`)) await kubectl(['delete', 'namespace', OPERATOR_NAMESPACE, '--wait=false']);
  await rm(out, { recursive: true, force: true });
});

release('writes one versioned file: every object labelled, the image set, a header with the install command', async () => {
  assert.is(path, join(out, `streamer-operator-${VERSION}.yaml`));
  const text = await readFile(path, 'utf8');
  assert.match(text, new RegExp(`^# streamer-operator ${VERSION.replace(/\./g, '\\.')}:`));
  assert.match(text, new RegExp(`kubectl apply --server-side -f streamer-operator-${VERSION.replace(/\./g, '\\.')}\\.yaml`));
  const kinds = new Set(objects.map((o) => o.kind));
  for (const kind of ['CustomResourceDefinition', 'ValidatingAdmissionPolicy', 'Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Broker', 'Trigger', 'ApiServerSource', 'PingSource', 'Service']) {
    assert.ok(kinds.has(kind), `${kind} in the release`);
  }
  assert.equal(objects.filter((o) => o.metadata.labels?.[VERSION_LABEL] !== VERSION).map((o) => ref(o).join('/')), []);
  const service = objects.find((o) => o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1') as Manifest & { spec: { template: { spec: { containers: { image: string }[] } } } };
  assert.equal(service.spec.template.spec.containers.map((c) => c.image), [IMAGE]);
  // Selectors stay as they were: a label added to a selector would orphan an installed version's objects.
  assert.not.match(JSON.stringify(objects.filter((o) => o.kind === 'ApiServerSource').map((o) => (o as { spec?: unknown }).spec)), VERSION);
});

release('applies server-side on the real control plane with the Knative CRDs, and every object is there, labelled', async () => {
  const applied = await kubectl(['apply', '--server-side', '-f', path]);
  assert.is(applied.code, 0, applied.stderr);
  const stored = (await kubectl.json<{ items: Manifest[] }>(['get', '-f', path])).items;
  assert.equal(stored.map((o) => ref(o).join('/')).sort(), objects.map((o) => ref(o).join('/')).sort());
  assert.equal(stored.filter((o) => o.metadata.labels?.[VERSION_LABEL] !== VERSION).map((o) => ref(o).join('/')), []);
  const image = await kubectl.ok(['get', 'services.serving.knative.dev', 'streamer-operator', '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
  assert.is(image, IMAGE);
  // Applying the same release again changes nothing and conflicts with nothing.
  const again = await kubectl(['apply', '--server-side', '-f', path]);
  assert.is(again.code, 0, again.stderr);
  assert.not.match(again.stdout, /configured|created/);
});

release('image references: tags, registry ports, digests', () => {
  assert.equal(parseImage('ghcr.io/acme/streamer-operator:0.2.0'), { newName: 'ghcr.io/acme/streamer-operator', newTag: '0.2.0' });
  assert.equal(parseImage('127.0.0.1:5000/streamer-operator'), { newName: '127.0.0.1:5000/streamer-operator' });
  assert.equal(parseImage('r.example/s@sha256:abc'), { newName: 'r.example/s', digest: 'sha256:abc' });
});

release.run();
