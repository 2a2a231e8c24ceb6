// The ksvc stand-in runs exactly the template of knative/service.yaml, and the image table maps
// the images the sealed cluster runs (pure: no cluster).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../cluster/index.ts';
import { imageTable, COREDNS_IMAGE } from '../cluster/images.ts';
import { standInFor } from './knative-service.ts';

const test = suite('ksvc stand-in and image table');
const ksvc = parse(await readFile(join(repoRoot, 'knative', 'service.yaml'), 'utf8'));

test('the Deployment runs the template: image, env, ServiceAccount, port, probes, resources; N replicas', () => {
  const { deployment, service, status, url } = standInFor({ ...ksvc, metadata: { ...ksvc.metadata, generation: 3 } }, 2);
  const template = ksvc.spec.template.spec;
  const pod = deployment.spec.template.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };
  assert.is(deployment.spec.replicas, 2);
  assert.is(pod.serviceAccountName, template.serviceAccountName);
  assert.not.ok('containerConcurrency' in pod, 'Serving-only fields are not Pod fields');
  assert.not.ok('timeoutSeconds' in pod);
  const [container] = pod.containers;
  const [original] = template.containers;
  assert.is(container?.name, 'user-container');
  assert.is(container?.image, original.image);
  assert.equal(container?.readinessProbe, original.readinessProbe);
  assert.equal(container?.livenessProbe, original.livenessProbe);
  assert.equal(container?.resources, original.resources);
  const env = container?.env as { name: string; value: string }[];
  for (const e of original.env) assert.ok(env.some((x) => x.name === e.name && x.value === e.value), e.name);
  assert.ok(env.some((x) => x.name === 'PORT' && x.value === '8080'));
  assert.ok(env.some((x) => x.name === 'K_SERVICE' && x.value === 'streamer-operator'));
  assert.equal(service.spec.ports, [{ name: 'http', port: 80, targetPort: 8080 }]);
  assert.equal(service.spec.selector, deployment.spec.selector.matchLabels);
  assert.is(url, 'http://streamer-operator-ksvc-standin.streamer-operator-system.svc.cluster.local');
  assert.equal(status.address, { url });
  assert.is(status.observedGeneration, 3);
  assert.ok(status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
});

test('images: ko:// Knative commands that were built, CoreDNS, our image under any registry, the media server; nothing else', () => {
  const images = imageTable({ knativeBinDir: join(repoRoot, 'test'), repoRoot });
  // test/cluster exists under the fake bin dir as a directory named like a command would be
  assert.is(images('ko://knative.dev/eventing/cmd/cluster')?.command, join(repoRoot, 'test', 'cluster'));
  assert.is(images('ko://knative.dev/eventing/cmd/not_built'), undefined);
  assert.is(images(COREDNS_IMAGE)?.command, join(repoRoot, 'test', 'coredns'));
  for (const image of ['streamer-operator', 'registry.example.com/flussonic/streamer-operator:0.1.0', 'localhost:5000/streamer-operator@sha256:abc']) {
    assert.is(images(image)?.cwd, repoRoot, image);
    assert.match(String(images(image)?.args?.[0]), /functions-framework\/build\/src\/main\.js$/);
  }
  assert.match(String(images('flussonic/flussonic:v26.01-5')?.args?.[0]), /test\/media-double\/serve\.ts$/);
  assert.is(images('nginx:1.27'), undefined);
  assert.is(images('registry.example.com/not-streamer-operator'), undefined);
});

test.run();
