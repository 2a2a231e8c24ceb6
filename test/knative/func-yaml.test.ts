// func.yaml is valid for kn func (its JSON schema: func_yaml-schema.json here is
// knative/func schema/func_yaml-schema.json at tag knative-v1.23.1, commit 0f56a5defe8e), names a
// functions-framework target this package registers, that target answers func's probes and
// serves every path the Triggers and the dead-letter sink address, and func.yaml describes the
// same Knative Service as knative/service.yaml.
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { request } from 'undici';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { repoRoot } from '../cluster/index.ts';
import { parseAllDocuments } from 'yaml';
import { subscriberPath } from './trigger-filter.ts';
import type { Manifest } from './manifests.ts';

// An unreadable kubeconfig: a function that needs Kubernetes answers 503 naming itself, which
// shows which function a path reached without any cluster.
process.env.KUBECONFIG = join(repoRoot, '.local', 'no-such-kubeconfig');
const { getFunction, getTestServer } = await import('@google-cloud/functions-framework/testing');
await import('../../functions/index.ts');

type Env = { name: string; value: string };
type FuncYaml = {
  specVersion: string;
  name: string;
  runtime: string;
  namespace: string;
  build: { builder: string; builderImages: Record<string, string>; buildEnvs: Env[] };
  run: { envs: Env[] };
  deploy: {
    labels: { key: string; value: string }[];
    serviceAccountName: string;
    options: {
      scale: { min: number; max: number };
      resources: { requests: Record<string, string>; limits: Record<string, string | number> };
    };
    healthEndpoints: { liveness: string; readiness: string };
  };
};

// Every file is read before the first suite is queued: uvu starts running the queue on a timer,
// so a top-level await between suites would split them over two runs.
const funcYamlText = await readFile(join(repoRoot, 'func.yaml'), 'utf8');
const ksvcText = await readFile(join(repoRoot, 'knative', 'service.yaml'), 'utf8');
const funcYaml = parse(funcYamlText) as FuncYaml;
const buildEnv = (name: string) => funcYaml.build.buildEnvs.find((e) => e.name === name)?.value;

/**
 * func's schema is draft-04; the keywords it uses (type, properties, additionalProperties,
 * required, enum, pattern, minimum/maximum, items, oneOf, $ref, format) mean the same in
 * draft-07, so it is compiled as draft-07 once its `$schema` markers are removed.
 */
function withoutSchemaMarkers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSchemaMarkers);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '$schema').map(([k, v]) => [k, withoutSchemaMarkers(v)]));
  }
  return value;
}
const schema = withoutSchemaMarkers(JSON.parse(await readFile(join(repoRoot, 'test', 'knative', 'func_yaml-schema.json'), 'utf8')));
const ajv = new Ajv({ strict: false, allErrors: true });
formats.default(ajv, ['date-time']);
const validate = ajv.compile(schema as object);

// ---

const valid = suite('func.yaml against func\'s schema');

valid('is valid, at specVersion 0.36.0', () => {
  const ok = validate(funcYaml);
  assert.ok(ok, ajv.errorsText(validate.errors));
  assert.is(funcYaml.specVersion, '0.36.0');
});

valid('the schema has teeth: an unknown key, a bad builder and a bad name are refused', () => {
  assert.not.ok(validate({ ...funcYaml, deploy: { ...funcYaml.deploy, subscription: [] } }));
  assert.not.ok(validate({ ...funcYaml, build: { ...funcYaml.build, builder: 'docker' } }));
  assert.not.ok(validate({ ...funcYaml, name: 'Streamer_Operator' }));
  const { created: _created, ...withoutCreated } = funcYaml as FuncYaml & { created: string };
  assert.not.ok(validate(withoutCreated));
});

valid('names a trusted Google Cloud buildpacks builder and the function target', () => {
  assert.is(funcYaml.build.builder, 'pack');
  assert.match(funcYaml.build.builderImages.pack!, /^gcr\.io\/buildpacks\/builder:/);
  assert.is(buildEnv('GOOGLE_FUNCTION_TARGET'), 'streamer-operator');
  assert.is(buildEnv('GOOGLE_FUNCTION_SIGNATURE_TYPE'), 'http');
  assert.is(buildEnv('GOOGLE_NODE_RUN_SCRIPTS'), 'build');
});

valid('declares no subscriptions: the Triggers come from knative/ (func would make filter-only, create-only Triggers)', () => {
  assert.not.match(funcYamlText, /subscriptions:/);
});

valid.run();

// ---

const target = suite('the function target');
const server = getTestServer(buildEnv('GOOGLE_FUNCTION_TARGET')!);
let base = '';

target.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

target.after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

target('GOOGLE_FUNCTION_TARGET, and each function\'s own target, are registered by functions/index.ts', () => {
  for (const name of ['streamer-operator', 'reconcile-children', 'push-config', 'probe-status']) {
    assert.type(getFunction(name), 'function', name);
  }
  assert.is(getFunction('no-such-function'), undefined);
});

target('answers func\'s GET probes with 200, on the paths func.yaml names', async () => {
  for (const path of [funcYaml.deploy.healthEndpoints.liveness, funcYaml.deploy.healthEndpoints.readiness]) {
    const response = await request(`${base}${path}`);
    await response.body.dump();
    assert.is(response.statusCode, 200, path);
  }
});

target('serves every Trigger\'s subscriber path with the function of that name', async () => {
  const triggers = parseAllDocuments(await readFile(join(repoRoot, 'knative', 'base', 'triggers.yaml'), 'utf8')).map((d) => d.toJS() as Manifest).filter((m) => m?.kind === 'Trigger');
  assert.is(triggers.length, 3);
  for (const trigger of triggers) {
    const path = subscriberPath(trigger);
    const response = await request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = await response.body.text();
    assert.is(response.statusCode, 503, `${path}: ${body}`);
    assert.match(body, new RegExp(`^${path.slice(1)} cannot reach Kubernetes`));
  }
});

target('serves the dead-letter sink path (204) and nothing at unknown paths (404)', async () => {
  const dead = await request(`${base}/dead-letter`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'x', 'ce-source': 's', 'ce-type': 't' },
    body: '{}',
  });
  await dead.body.dump();
  assert.is(dead.statusCode, 204);
  const unknown = await request(`${base}/no-such-function`, { method: 'POST', body: '{}' });
  await unknown.body.dump();
  assert.is(unknown.statusCode, 404);
});

target.run();

// ---

const same = suite('func.yaml and knative/service.yaml describe the same Service');

type Ksvc = {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        serviceAccountName: string;
        containerConcurrency: number;
        containers: {
          env: Env[];
          resources: { requests: Record<string, string>; limits: Record<string, string> };
          livenessProbe: { httpGet: { path: string; port: number } };
          readinessProbe: { httpGet: { path: string; port: number } };
        }[];
      };
    };
  };
};
const ksvc = parse(ksvcText) as Ksvc;
const container = ksvc.spec.template.spec.containers[0]!;

same('name, namespace and ServiceAccount', () => {
  assert.is(ksvc.metadata.name, funcYaml.name);
  assert.is(ksvc.metadata.namespace, funcYaml.namespace);
  assert.is(ksvc.spec.template.spec.serviceAccountName, funcYaml.deploy.serviceAccountName);
});

same('labels, including cluster-local visibility, and the labels func adds itself', () => {
  for (const { key, value } of funcYaml.deploy.labels) assert.is(ksvc.metadata.labels[key], value, key);
  assert.is(ksvc.metadata.labels['function.knative.dev/name'], funcYaml.name);
  assert.is(ksvc.metadata.labels['function.knative.dev/runtime'], funcYaml.runtime);
  assert.ok(funcYaml.deploy.labels.some((l) => l.key === 'networking.knative.dev/visibility' && l.value === 'cluster-local'));
});

same('scale bounds and concurrency', () => {
  const annotations = ksvc.spec.template.metadata.annotations;
  assert.is(annotations['autoscaling.knative.dev/min-scale'], String(funcYaml.deploy.options.scale.min));
  assert.is(annotations['autoscaling.knative.dev/max-scale'], String(funcYaml.deploy.options.scale.max));
  assert.is(ksvc.spec.template.spec.containerConcurrency, funcYaml.deploy.options.resources.limits.concurrency);
});

same('resources, environment and probes', () => {
  const { concurrency: _concurrency, ...limits } = funcYaml.deploy.options.resources.limits;
  assert.equal(container.resources.requests, funcYaml.deploy.options.resources.requests);
  assert.equal(container.resources.limits, limits);
  assert.equal(container.env, funcYaml.run.envs);
  assert.equal(container.livenessProbe.httpGet, { path: funcYaml.deploy.healthEndpoints.liveness, port: 8080 });
  assert.equal(container.readinessProbe.httpGet, { path: funcYaml.deploy.healthEndpoints.readiness, port: 8080 });
  assert.ok(container.env.some((e) => e.name === 'FUNCTION_TARGET' && e.value === buildEnv('GOOGLE_FUNCTION_TARGET')));
});

same.run();

// ---

const build = suite('the image build');

/**
 * The .funcignore patterns. Only the gitignore forms used there are allowed (and understood
 * here): `*.ext`, `name` (at any depth) and `/name` (at the root).
 */
async function funcIgnore(): Promise<string[]> {
  const lines = (await readFile(join(repoRoot, '.funcignore'), 'utf8')).split('\n').map((l) => l.trim());
  const patterns = lines.filter((l) => l && !l.startsWith('#'));
  for (const p of patterns) assert.match(p, /^(\*\.[a-z]+|\/?[.A-Za-z0-9_-]+)$/, `.funcignore pattern ${p} is plain`);
  return patterns;
}
function ignored(patterns: string[], path: string): boolean {
  const segments = path.split('/');
  return patterns.some((p) => {
    if (p.startsWith('*.')) return path.endsWith(p.slice(1));
    if (p.startsWith('/')) return segments[0] === p.slice(1);
    return segments.includes(p);
  });
}

build('.funcignore keeps the build inputs and drops tests, dependencies and local state', async () => {
  const patterns = await funcIgnore();
  for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'functions/index.ts', 'functions/push-config/index.ts', 'lib/runtime/register.ts', 'lib/push-config/push-config.ts', 'scripts/serve-function.ts']) {
    assert.not.ok(ignored(patterns, path), `${path} reaches the build`);
  }
  for (const path of ['node_modules/x', 'test/knative/func-yaml.test.ts', 'bench/x', '.local/x', 'dist/index.js', 'npm-debug.log']) {
    assert.ok(ignored(patterns, path), `${path} is left out`);
  }
});

build('package.json has the build script GOOGLE_NODE_RUN_SCRIPTS runs, and main points at its output', async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { main?: string; scripts?: Record<string, string> };
  const patterns = await funcIgnore();
  assert.type(pkg.scripts?.build, 'string', 'scripts.build');
  assert.type(pkg.main, 'string', 'main');
  // Whatever the script reads must reach the build context.
  for (const token of pkg.scripts!.build!.split(/\s+/).filter((t) => /^[a-z].*\.(ts|js|mjs)$/.test(t))) {
    assert.not.ok(ignored(patterns, token), `${token} is ignored but the build reads it`);
  }
});

build.run();
