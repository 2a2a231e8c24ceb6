import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { DeclaredStreamerStatus, Streamer, StreamerSpec } from '../../lib/schema/streamer.ts';
import { type JsonSchema, openApiSchema, ourCrd } from '../crds/crd-file.ts';
import { everyFieldManifest, live, quickstartManifest, TEST_UID } from '../fixtures/streamers.ts';

// ---

const parse = suite('Streamer');

parse('parses the quickstart and applies the image default', () => {
  const streamer = live(quickstartManifest);
  assert.is(streamer.spec.image, 'flussonic/flussonic');
  assert.is(streamer.spec.version, 'v26.01-5');
  assert.is(streamer.metadata.uid, TEST_UID);
});

parse('keeps metadata and status fields it does not know (loose)', () => {
  const streamer = Streamer.parse({
    ...quickstartManifest,
    metadata: { name: 'simple', namespace: 'media', uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z' },
    status: { ready: true, somethingNew: 1 },
  });
  assert.is(streamer.metadata['creationTimestamp'], '2026-01-01T00:00:00Z');
  assert.is(streamer.status?.['somethingNew'], 1);
});

parse('parses the status leniently: a malformed condition is dropped, malformed fields read as absent, the spec still counts', () => {
  const good = { type: 'StreamerReady', status: 'True', reason: 'StatefulSetReady', message: 'ok', lastTransitionTime: '2026-01-14T10:00:00Z' };
  const streamer = Streamer.parse({
    ...quickstartManifest,
    metadata: { name: 'simple', namespace: 'media', uid: 'u' },
    status: {
      ready: 'yes',
      observedGeneration: -1,
      configPush: { hash: 1 },
      conditions: [good, { type: 'OtherTool', status: 'Maybe' }, { ...good, type: 'Stamped', lastTransitionTime: 'yesterday' }, 'junk'],
    },
  });
  assert.equal(streamer.status?.conditions, [good]);
  assert.is(streamer.status?.ready, undefined);
  assert.is(streamer.status?.observedGeneration, undefined);
  assert.is(streamer.status?.configPush, undefined);
  assert.is(streamer.spec.version, 'v26.01-5');
  assert.is(Streamer.parse({ ...quickstartManifest, metadata: { name: 's', namespace: 'm', uid: 'u' }, status: 'broken' }).status, undefined);
});

parse('parses the spec strictly: a malformed spec field still refuses the Streamer', () => {
  const result = Streamer.safeParse({ ...quickstartManifest, spec: { ...quickstartManifest.spec, hostPort: 'eighty' }, metadata: { name: 's', namespace: 'm', uid: 'u' } });
  assert.is(result.success, false);
});

parse('normalises an integer resourceFieldRef divisor to a string', () => {
  const spec = StreamerSpec.parse({
    version: 'v1', nodeName: 'n',
    env: [{ name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: 1 } } }],
  });
  assert.is(spec.env?.[0]?.valueFrom?.resourceFieldRef?.divisor, '1');
});

const invalid: [string, unknown][] = [
  ['missing version', { nodeName: 'n' }],
  ['missing nodeName', { version: 'v1' }],
  ['hostPort 0', { version: 'v1', nodeName: 'n', hostPort: 0 }],
  ['adminHostPort 70000', { version: 'v1', nodeName: 'n', adminHostPort: 70000 }],
  ['unknown logLevel', { version: 'v1', nodeName: 'n', logLevel: 'verbose' }],
  ['volume without mountPath', { version: 'v1', nodeName: 'n', volumes: [{ name: 'x', emptyDir: {} }] }],
  ['non-integer nvidiaGpuCount', { version: 'v1', nodeName: 'n', nvidiaGpuCount: 1.5 }],
];
for (const [name, spec] of invalid) {
  parse(`rejects a spec with ${name}`, () => {
    assert.is(StreamerSpec.safeParse(spec).success, false);
  });
}

parse('rejects an object that is not a Streamer', () => {
  assert.is(Streamer.safeParse({ ...everyFieldManifest, kind: 'MediaServer', metadata: { name: 'a', namespace: 'b', uid: 'c' } }).success, false);
  assert.is(Streamer.safeParse({ ...everyFieldManifest, metadata: { name: 'a' } }).success, false, 'needs namespace and uid');
});

parse.run();

// ---

/**
 * Walks a CRD schema node and the zod JSON Schema node at the same place and collects every
 * disagreement: type, required, enum, bounds, string limits, pattern, format, default, and
 * properties present on one side only. A zod object with `additionalProperties: {}` (loose)
 * may declare fewer properties than the CRD (volume sources are typed loosely on purpose).
 */
function compare(crd: JsonSchema, zod: JsonSchema, path: string, problems: string[]): void {
  const differ = (what: string, a: unknown, b: unknown) => problems.push(`${path}: ${what} crd=${JSON.stringify(a)} zod=${JSON.stringify(b)}`);
  if (crd['x-kubernetes-int-or-string']) {
    const types = (zod.anyOf ?? []).map((s) => s.type).sort();
    if (JSON.stringify(types) !== '["integer","string"]') differ('int-or-string', true, zod.anyOf);
    return;
  }
  if (crd.type !== zod.type) differ('type', crd.type, zod.type);
  if (JSON.stringify(crd.enum) !== JSON.stringify(zod.enum)) differ('enum', crd.enum, zod.enum);
  if (crd.type === 'integer') {
    const implied = crd.format === 'int32' ? [-2147483648, 2147483647] : [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    if ((crd.minimum ?? implied[0]) !== (zod.minimum ?? implied[0])) differ('minimum', crd.minimum, zod.minimum);
    if ((crd.maximum ?? implied[1]) !== (zod.maximum ?? implied[1])) differ('maximum', crd.maximum, zod.maximum);
  }
  for (const key of ['minLength', 'maxLength'] as const) {
    if (crd[key] !== zod[key]) differ(key, crd[key], zod[key]);
  }
  // Integer formats (int32/int64) are covered by the bounds above. zod renders a date-time
  // check as a format plus its own pattern, so the pattern is compared only without a format.
  if (crd.type === 'string' && crd.format !== zod.format) differ('format', crd.format, zod.format);
  if (!crd.format && crd.pattern !== zod.pattern?.replaceAll('\\/', '/')) differ('pattern', crd.pattern, zod.pattern);
  if (JSON.stringify(crd.default) !== JSON.stringify(zod.default)) differ('default', crd.default, zod.default);
  if (crd.type === 'array' && crd.items && zod.items) compare(crd.items, zod.items, `${path}[]`, problems);
  if (crd.type !== 'object') return;

  const crdProps = crd.properties ?? {};
  const zodProps = zod.properties ?? {};
  const loose = typeof zod.additionalProperties === 'object' && Object.keys(zod.additionalProperties).length === 0;
  for (const [key, schema] of Object.entries(crdProps)) {
    const mirror = zodProps[key];
    if (mirror) compare(schema, mirror, `${path}.${key}`, problems);
    else if (!loose) problems.push(`${path}.${key}: in the CRD, not in zod`);
  }
  for (const key of Object.keys(zodProps)) {
    if (!(key in crdProps)) problems.push(`${path}.${key}: in zod, not in the CRD`);
  }
  const crdRequired = [...(crd.required ?? [])].sort();
  const zodRequired = [...(zod.required ?? [])].sort();
  const expected = loose ? crdRequired.filter((key) => key in zodProps) : crdRequired;
  if (JSON.stringify(expected) !== JSON.stringify(zodRequired)) differ('required', crdRequired, zodRequired);
  if (typeof crd.additionalProperties === 'object') {
    if (typeof zod.additionalProperties !== 'object') differ('additionalProperties', crd.additionalProperties, zod.additionalProperties);
    else compare(crd.additionalProperties, zod.additionalProperties, `${path}{}`, problems);
  }
}

const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
const crdRoot = openApiSchema(ourCrd);

const agree = suite('zod schema and CRD schema');

agree('agree on every spec field', () => {
  const crdSpec = crdRoot.properties?.['spec'];
  assert.ok(crdSpec, 'CRD has spec');
  const problems: string[] = [];
  compare(crdSpec, toJson(StreamerSpec), 'spec', problems);
  assert.equal(problems, []);
});

agree('agree on the status', () => {
  const crdStatus = crdRoot.properties?.['status'];
  assert.ok(crdStatus, 'CRD has status');
  const problems: string[] = [];
  compare(crdStatus, toJson(DeclaredStreamerStatus), 'status', problems);
  assert.equal(problems, []);
});

agree('the comparison catches a disagreement', () => {
  const crdSpec = crdRoot.properties?.['spec'];
  assert.ok(crdSpec);
  const drifted = StreamerSpec.extend({ hostPort: z.int().min(1).max(65536).optional(), extra: z.string() });
  const problems: string[] = [];
  compare(crdSpec, toJson(drifted), 'spec', problems);
  assert.ok(problems.some((p) => p.startsWith('spec.hostPort: maximum')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('spec.extra: in zod')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('spec: required')), problems.join('\n'));
});

agree('the spec field list is the same', () => {
  assert.equal(Object.keys(StreamerSpec.shape).sort(), Object.keys(crdRoot.properties?.['spec']?.properties ?? {}).sort());
});

agree.run();
