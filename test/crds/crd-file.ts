// Reads crds/streamer.yaml and the upstream CRD for the pure CRD tests.
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

export type JsonSchema = {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  [extension: `x-kubernetes-${string}`]: unknown;
};

export type CrdVersion = {
  name: string;
  served: boolean;
  storage: boolean;
  subresources?: { status?: object };
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
  schema: { openAPIV3Schema: JsonSchema };
};

export type Crd = {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; listKind: string; shortNames?: string[]; categories?: string[] };
    versions: CrdVersion[];
  };
};

const root = new URL('../../', import.meta.url).pathname;

export const ourCrd = parse(readFileSync(`${root}crds/streamer.yaml`, 'utf8')) as Crd;
export const upstreamCrd = parse(readFileSync(`${root}../shared/upstream/streamer-crd.upstream.yaml`, 'utf8')) as Crd;
export const policyDocuments = parseAllDocuments(readFileSync(`${root}crds/streamer-version-policy.yaml`, 'utf8')).map(
  (doc) => doc.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; spec: Record<string, unknown> },
);

export function openApiSchema(crd: Crd): JsonSchema {
  const version = crd.spec.versions[0];
  if (!version) throw new Error(`${crd.metadata.name} has no versions`);
  return version.schema.openAPIV3Schema;
}

/** A copy without `description` keys, for comparing validation only. */
export function withoutDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDescriptions);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).filter(([key]) => key !== 'description').map(([key, v]) => [key, withoutDescriptions(v)]),
    );
  }
  return value;
}
