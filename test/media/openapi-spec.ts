// Test helper: the media server's OpenAPI spec (shared/upstream/flussonic-openapi.json, beside
// the repository) compiled with Ajv, to check the double's requests and responses against it.
// The spec is OpenAPI 3.1 but uses the 3.0 `nullable` keyword; it is rewritten to
// `anyOf: [{type: null}, …]` before compiling. Custom formats (utc_ms, media_name, …) are
// accepted as-is; `uuid` is checked.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

export const SPEC_PATH = new URL('../../../shared/upstream/flussonic-openapi.json', import.meta.url);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Operation = {
  requestBody?: { content: Record<string, { schema?: Json }> };
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
};
export type Spec = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Json> } };

export type Verdict = { declared: true; errors: string[] } | { declared: false; reason: string };

/** Loads the spec and returns checkers for responses and request bodies. */
export function loadSpec() {
  const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
  const ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: true });
  formats.default(ajv, ['uuid']);
  for (const name of specFormats(spec.components.schemas)) if (name !== 'uuid') ajv.addFormat(name, true);
  ajv.addSchema({ $id: 'flussonic', components: { schemas: withoutNullable(spec.components.schemas) } } as Record<string, unknown>);

  const compiled = new Map<string, ValidateFunction>();
  const check = (schema: Json | undefined, body: unknown): string[] => {
    if (schema === undefined) return [];
    const key = JSON.stringify(schema);
    const validate = compiled.get(key) ?? ajv.compile(retarget(withoutNullable(schema)) as Record<string, unknown>);
    compiled.set(key, validate);
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  };
  const operation = (method: string, apiPath: string): Operation | undefined => spec.paths[apiPath]?.[method.toLowerCase()];

  return {
    spec,
    operation,
    /** Whether `status` with `contentType` is declared for the operation, and schema errors of `body`. */
    checkResponse(method: string, apiPath: string, status: number, contentType: string, body: unknown): Verdict {
      const op = operation(method, apiPath);
      if (op === undefined) return { declared: false, reason: `${method} ${apiPath} is not in the spec` };
      const response = op.responses[String(status)];
      if (response === undefined) return { declared: false, reason: `status ${status} not declared for ${method} ${apiPath}` };
      const media = response.content?.[baseType(contentType)];
      if (media === undefined) return { declared: false, reason: `${contentType} not declared for ${status} of ${method} ${apiPath}` };
      return { declared: true, errors: check(media.schema, body) };
    },
    /** Same for a request body. */
    checkRequest(method: string, apiPath: string, contentType: string, body: unknown): Verdict {
      const media = operation(method, apiPath)?.requestBody?.content[baseType(contentType)];
      if (media === undefined) return { declared: false, reason: `${contentType} body not declared for ${method} ${apiPath}` };
      return { declared: true, errors: check(media.schema, body) };
    },
  };
}

export function baseType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** `nullable: true` (OpenAPI 3.0) -> `anyOf: [{type: 'null'}, schema]`, recursively. */
function withoutNullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(withoutNullable);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'nullable') out[key] = withoutNullable(value);
  return node.nullable === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

/** Points `#/components/schemas/…` refs of a response schema at the added spec document. */
function retarget(node: Json): Json {
  if (Array.isArray(node)) return node.map(retarget);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === '$ref' && typeof value === 'string' ? `flussonic${value}` : retarget(value);
  }
  return out;
}

function specFormats(node: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) specFormats(item, found);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'format' && typeof value === 'string') found.add(value);
      else specFormats(value, found);
    }
  }
  return found;
}
