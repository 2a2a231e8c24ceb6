// Pure checks of crds/*.yaml against the upstream CRD and the requirements; the API
// server's view of the same files is in streamer-crd.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openApiSchema, ourCrd, policyDocuments, upstreamCrd, withoutDescriptions } from './crd-file.ts';

const ours = openApiSchema(ourCrd);

type Rule = { rule: string; message?: string };

/**
 * Keys this CRD may add to an upstream field's schema: CEL rules, and the bounds their cost
 * estimate needs (each set beyond what could ever work: a volume name over 63 characters, a
 * mountPath over PATH_MAX, more configExtra than one ConfigMap holds), and volumes as a map
 * list keyed by name (two volumes of one name can never form a Pod).
 */
const ADDED_KEYS = ['x-kubernetes-validations', 'maxItems', 'maxLength', 'maxProperties', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys'];

/** Our schema without descriptions and without the ADDED_KEYS upstream lacks at the same place. */
function withoutRules(ours: unknown, upstream: unknown): unknown {
  if (Array.isArray(ours)) return ours.map((v, i) => withoutRules(v, Array.isArray(upstream) ? upstream[i] : undefined));
  if (ours !== null && typeof ours === 'object') {
    const theirs = (upstream ?? {}) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(ours)
        .filter(([key]) => key !== 'description' && (!ADDED_KEYS.includes(key) || key in theirs))
        .map(([key, inner]) => [key, withoutRules(inner, theirs[key])]),
    );
  }
  return ours;
}

function collectRules(value: unknown, found: Rule[] = []): Rule[] {
  if (Array.isArray(value)) value.forEach((v) => collectRules(v, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'x-kubernetes-validations') found.push(...(inner as Rule[]));
      else collectRules(inner, found);
    }
  }
  return found;
}
const upstream = openApiSchema(upstreamCrd);

// ---

const compat = suite('Streamer CRD vs upstream');

compat('has the same identity: group, kind, plural, scope, version', () => {
  assert.is(ourCrd.metadata.name, upstreamCrd.metadata.name);
  assert.is(ourCrd.spec.group, 'media.flussonic.com');
  assert.is(ourCrd.spec.scope, 'Namespaced');
  for (const key of ['kind', 'plural', 'singular', 'listKind'] as const) {
    assert.is(ourCrd.spec.names[key], upstreamCrd.spec.names[key], key);
  }
  assert.equal(ourCrd.spec.versions.map((v) => [v.name, v.served, v.storage]), [['v1alpha1', true, true]]);
  assert.equal(ourCrd.spec.versions[0]?.subresources, { status: {} });
});

compat('keeps every upstream spec field with the same validation (descriptions, added CEL rules and their bounds aside)', () => {
  const upstreamSpec = upstream.properties?.['spec']?.properties ?? {};
  const ourSpec = ours.properties?.['spec']?.properties ?? {};
  assert.equal(Object.keys(ourSpec).sort(), Object.keys(upstreamSpec).sort());
  for (const [field, schema] of Object.entries(upstreamSpec)) {
    assert.equal(withoutRules(ourSpec[field], schema), withoutDescriptions(schema), field);
  }
});

compat('adds only CEL rules (x-kubernetes-validations), each with a message; upstream has none', () => {
  const rules = collectRules(ours);
  assert.equal(collectRules(upstream), []);
  assert.ok(rules.length >= 10, `${rules.length} rules`);
  for (const rule of rules) assert.ok(typeof rule.message === 'string' && rule.message.length > 10, JSON.stringify(rule));
});

compat('requires version and nodeName, like upstream', () => {
  assert.equal(ours.properties?.['spec']?.required, ['nodeName', 'version']);
  assert.equal(upstream.properties?.['spec']?.required, ['nodeName', 'version']);
});

compat('keeps the embedded volume source schemas (hostPath, persistentVolumeClaim, ...)', () => {
  const volume = ours.properties?.['spec']?.properties?.['volumes']?.items;
  assert.ok(volume?.properties?.['hostPath']?.properties?.['path']);
  assert.ok(volume?.properties?.['persistentVolumeClaim']?.properties?.['claimName']);
  assert.equal(volume?.required, ['mountPath', 'name']);
});

compat.run();

// ---

const status = suite('Streamer CRD status');

status('conditions are a map list keyed by type, in the metav1.Condition shape', () => {
  const conditions = ours.properties?.['status']?.properties?.['conditions'];
  assert.is(conditions?.['x-kubernetes-list-type'], 'map');
  assert.equal(conditions?.['x-kubernetes-list-map-keys'], ['type']);
  assert.equal(
    withoutDescriptions(conditions?.items),
    withoutDescriptions(upstream.properties?.['status']?.properties?.['conditions']?.items),
  );
});

status('has ready and observedGeneration, none required (each function applies its own part)', () => {
  const statusSchema = ours.properties?.['status'];
  assert.is(statusSchema?.properties?.['ready']?.type, 'boolean');
  assert.is(statusSchema?.properties?.['observedGeneration']?.type, 'integer');
  assert.is(statusSchema?.required, undefined);
});

status('printer columns: version, node, ready, both conditions, age; short name str', () => {
  const columns = ourCrd.spec.versions[0]?.additionalPrinterColumns ?? [];
  assert.equal(columns.map((c) => c.jsonPath), [
    '.spec.version',
    '.spec.nodeName',
    '.status.ready',
    '.status.conditions[?(@.type=="StreamerReady")].status',
    '.status.conditions[?(@.type=="StreamerConfigSaved")].status',
    '.metadata.creationTimestamp',
  ]);
  assert.is(columns.at(-1)?.type, 'date');
  assert.equal(ourCrd.spec.names.shortNames, ['str']);
});

status.run();

// ---

const policy = suite('streamer-version-policy.yaml');

policy('is a ValidatingAdmissionPolicy plus a Warn-only binding to it', () => {
  const [vap, binding] = policyDocuments;
  assert.is(policyDocuments.length, 2);
  assert.is(vap?.kind, 'ValidatingAdmissionPolicy');
  assert.is(vap?.apiVersion, 'admissionregistration.k8s.io/v1');
  assert.is(binding?.kind, 'ValidatingAdmissionPolicyBinding');
  assert.is(binding?.spec['policyName'], vap?.metadata.name);
  assert.equal(binding?.spec['validationActions'], ['Warn']);
});

policy.run();
