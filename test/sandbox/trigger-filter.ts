// Knative Trigger filtering, as the MTChannelBasedBroker's filter handler does it, for the tests'
// routing checks and the local broker of `npm start`. Source read: knative/eventing
// knative-v1.22.2, pkg/broker/filter/filter_handler.go (filterEvent),
// pkg/eventfilter/attributes/filter.go, pkg/eventfilter/subscriptionsapi/*.go and the webhook
// rules in pkg/apis/eventing/v1/trigger_validation.go (knative.md §3).
//
// Semantics kept exactly:
// - `spec.filters` (non-empty) wins over `spec.filter`; neither means "everything".
// - Every filter yields pass, fail or none; only fail drops the event (filter_handler.go).
// - `filters` items are ANDed; an item with no dialect is skipped (MaterializeFiltersList).
// - all: fail on the first fail, else the last result; any: pass on the first pass, else the
//   last result; not: swaps pass and fail, keeps none; an empty all/any is none.
// - Context attributes (type, source, subject, ...) always "exist", as "" when unset;
//   extensions exist only when present (attributes.LookupAttribute).
// - Legacy `filter.attributes`: exact equality; "" means "present and non-empty".
// What the admission webhook would reject is rejected here too (TRIGGER_FILTER_INVALID), since
// tests run without it: several dialects in one item, attribute names outside ^[a-z][a-z0-9]*$.
// So is an empty exact/prefix/suffix value: the webhook lets it through, but the broker then
// silently skips the whole item (NewExactFilter fails, MaterializeFiltersList drops it), which
// is never what a manifest means. CESQL is not implemented (TRIGGER_FILTER_UNSUPPORTED).
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/** A Trigger's filter spec was rejected (as Knative's webhook would) or cannot be read. */
export class TriggerFilterError extends Error {
  override name = 'TriggerFilterError' as const;
  readonly code: 'TRIGGER_FILTER_INVALID' | 'TRIGGER_FILTER_UNSUPPORTED';
  constructor(code: TriggerFilterError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

type FilterResult = 'pass' | 'fail' | 'none';

/** A CloudEvents Subscriptions API filter expression (Knative's SubscriptionsAPIFilter). */
export type SubscriptionsApiFilter = {
  exact?: Record<string, string>;
  prefix?: Record<string, string>;
  suffix?: Record<string, string>;
  all?: SubscriptionsApiFilter[];
  any?: SubscriptionsApiFilter[];
  not?: SubscriptionsApiFilter;
  cesql?: string;
};

const AttributeMap = z.record(z.string(), z.string());
const SubscriptionsApiFilter: z.ZodType<SubscriptionsApiFilter> = z.lazy(() =>
  z.object({
    exact: AttributeMap.optional(),
    prefix: AttributeMap.optional(),
    suffix: AttributeMap.optional(),
    all: z.array(SubscriptionsApiFilter).optional(),
    any: z.array(SubscriptionsApiFilter).optional(),
    not: SubscriptionsApiFilter.optional(),
    cesql: z.string().optional(),
  }),
);
const TriggerSpec = z.looseObject({
  broker: z.string().optional(),
  filter: z.looseObject({ attributes: AttributeMap.optional() }).optional(),
  filters: z.array(SubscriptionsApiFilter).optional(),
  subscriber: z
    .looseObject({
      ref: z.looseObject({ apiVersion: z.string(), kind: z.string(), name: z.string(), namespace: z.string().optional() }).optional(),
      uri: z.string().optional(),
    })
    .optional(),
});
const TriggerObject = z.looseObject({
  apiVersion: z.literal('eventing.knative.dev/v1'),
  kind: z.literal('Trigger'),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  spec: TriggerSpec,
});
type TriggerSpec = z.infer<typeof TriggerSpec>;

/**
 * A Trigger manifest as loaded from knative/ (apiVersion, kind, metadata, spec as written),
 * plus where its events go.
 */
export type Trigger = {
  apiVersion: 'eventing.knative.dev/v1';
  kind: 'Trigger';
  metadata: { name: string; namespace?: string | undefined; [key: string]: unknown };
  name: string;
  namespace: string | undefined;
  broker: string | undefined;
  /**
   * The path of `spec.subscriber.uri` (`/push-config`), or `/` without one: with a `ref`, a
   * relative uri is resolved against the referenced Service's address.
   */
  path: string;
  subscriber: TriggerSpec['subscriber'];
  spec: TriggerSpec;
  /** The file it came from, relative to the loaded folder. */
  file: string;
};

/** Context attributes: LookupAttribute answers them even when unset (as ""). */
const CONTEXT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion', 'type', 'source', 'subject', 'id', 'time', 'dataschema', 'schemaurl',
  'datacontenttype', 'datamediatype', 'datacontentencoding',
]);
const ATTRIBUTE_NAME = /^[a-z][a-z0-9]*$/;

function lookup(attributes: Readonly<Record<string, string>>, name: string): string | undefined {
  if (name === 'schemaurl') return attributes.dataschema ?? '';
  if (name === 'datamediatype') return (attributes.datacontenttype ?? '').split(';')[0]!.trim().toLowerCase();
  const value = attributes[name];
  if (value !== undefined) return value;
  return CONTEXT_ATTRIBUTES.has(name) ? '' : undefined;
}

function checkNames(map: Record<string, string> | undefined, where: string, valuesRequired: boolean): void {
  for (const [name, value] of Object.entries(map ?? {})) {
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new TriggerFilterError('TRIGGER_FILTER_INVALID', `${where}: attribute name "${name}" does not match ^[a-z][a-z0-9]*$`);
    }
    if (valuesRequired && value === '') {
      throw new TriggerFilterError('TRIGGER_FILTER_INVALID', `${where}: attribute "${name}" has an empty value`);
    }
  }
}

const nonEmpty = (map: Record<string, string> | undefined) => map !== undefined && Object.keys(map).length > 0;

/** The dialects an item sets, in the order Knative materializes them. */
function dialectsOf(filter: SubscriptionsApiFilter): string[] {
  const set: string[] = [];
  if (nonEmpty(filter.exact)) set.push('exact');
  if (nonEmpty(filter.prefix)) set.push('prefix');
  if (nonEmpty(filter.suffix)) set.push('suffix');
  if (filter.all?.length) set.push('all');
  if (filter.any?.length) set.push('any');
  if (filter.not !== undefined) set.push('not');
  if (filter.cesql) set.push('cesql');
  return set;
}

function matchEach(
  map: Record<string, string>,
  attributes: Readonly<Record<string, string>>,
  test: (value: string, expected: string) => boolean,
): FilterResult {
  for (const [name, expected] of Object.entries(map)) {
    const value = lookup(attributes, name);
    if (value === undefined || !test(value, expected)) return 'fail';
  }
  return 'pass';
}

/** The webhook's checks (ValidateSubscriptionAPIFilter), over the whole tree, plus CESQL's absence here. */
function validateFilter(filter: SubscriptionsApiFilter, where: string): void {
  const dialects = dialectsOf(filter);
  if (dialects.length > 1) {
    throw new TriggerFilterError('TRIGGER_FILTER_INVALID', `${where}: multiple dialects found (${dialects.join(', ')}), filters can have only one dialect set`);
  }
  checkNames(filter.exact, `${where}.exact`, true);
  checkNames(filter.prefix, `${where}.prefix`, true);
  checkNames(filter.suffix, `${where}.suffix`, true);
  for (const [index, item] of (filter.all ?? []).entries()) validateFilter(item, `${where}.all[${index}]`);
  for (const [index, item] of (filter.any ?? []).entries()) validateFilter(item, `${where}.any[${index}]`);
  if (filter.not) validateFilter(filter.not, `${where}.not`);
  if (filter.cesql) {
    throw new TriggerFilterError('TRIGGER_FILTER_UNSUPPORTED', `${where}.cesql: CESQL filters are not implemented here; use exact/prefix/suffix/all/any/not`);
  }
}

/** One item's result, or null when it sets no dialect (Knative skips such an item). */
function evaluateFilter(filter: SubscriptionsApiFilter, attributes: Readonly<Record<string, string>>): FilterResult | null {
  switch (dialectsOf(filter)[0]) {
    case 'exact':
      return matchEach(filter.exact!, attributes, (value, expected) => value === expected);
    case 'prefix':
      return matchEach(filter.prefix!, attributes, (value, expected) => value.startsWith(expected));
    case 'suffix':
      return matchEach(filter.suffix!, attributes, (value, expected) => value.endsWith(expected));
    case 'all':
      return evaluateAll(filter.all!, attributes);
    case 'any':
      return evaluateAny(filter.any!, attributes);
    case 'not': {
      const inner = evaluateFilter(filter.not!, attributes);
      return inner === 'pass' ? 'fail' : inner === 'fail' ? 'pass' : 'none';
    }
    default:
      return null;
  }
}

function evaluateAll(filters: SubscriptionsApiFilter[], attributes: Readonly<Record<string, string>>): FilterResult {
  let result: FilterResult = 'none';
  for (const filter of filters) {
    const item = evaluateFilter(filter, attributes);
    if (item === null) continue;
    if (item === 'fail') return 'fail';
    result = item;
  }
  return result;
}

function evaluateAny(filters: SubscriptionsApiFilter[], attributes: Readonly<Record<string, string>>): FilterResult {
  let result: FilterResult = 'none';
  for (const filter of filters) {
    const item = evaluateFilter(filter, attributes);
    if (item === null) continue;
    if (item === 'pass') return 'pass';
    result = item;
  }
  return result;
}

function evaluateAttributes(map: Record<string, string>, attributes: Readonly<Record<string, string>>): FilterResult {
  for (const [name, expected] of Object.entries(map)) {
    const value = lookup(attributes, name);
    if (value === undefined || (expected === '' && value === '')) return 'fail';
    if (expected !== '' && expected !== value) return 'fail';
  }
  return 'pass';
}

function specOf(trigger: object): TriggerSpec {
  const raw = 'spec' in trigger ? (trigger as { spec: unknown }).spec : undefined;
  const parsed = TriggerSpec.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new TriggerFilterError('TRIGGER_FILTER_INVALID', `not a Trigger spec: ${z.prettifyError(parsed.error)}`);
  }
  for (const [index, filter] of (parsed.data.filters ?? []).entries()) validateFilter(filter, `filters[${index}]`);
  checkNames(parsed.data.filter?.attributes, 'filter.attributes', false);
  return parsed.data;
}

/**
 * Whether the Broker delivers an event with these context attributes and extensions (all as
 * strings, names lowercase) to this Trigger. `trigger` is a Trigger manifest or a loaded
 * Trigger (anything with its `spec`). Throws TriggerFilterError for filters Knative's webhook
 * would reject and for CESQL.
 */
export function matchesTrigger(trigger: object, attributes: Readonly<Record<string, string>>): boolean {
  const spec = specOf(trigger);
  if (spec.filters && spec.filters.length > 0) return evaluateAll(spec.filters, attributes) !== 'fail';
  if (spec.filter?.attributes) return evaluateAttributes(spec.filter.attributes, attributes) !== 'fail';
  return true;
}

export { eventAttributes } from '../knative/trigger-filter.ts';

function pathOf(uri: string | undefined): string {
  if (!uri) return '/';
  return new URL(uri, 'http://subscriber.invalid').pathname;
}

/** Every YAML file under `dir`, recursively, kustomization files excepted, sorted. */
export async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await yamlFiles(path)));
    else if (/\.ya?ml$/.test(entry.name) && !/^kustomization\.ya?ml$/.test(entry.name)) files.push(path);
  }
  return files.sort();
}

/** The repository's knative/ folder. */
export const KNATIVE_DIR = fileURLToPath(new URL('../../knative/', import.meta.url));

/**
 * Every Trigger (eventing.knative.dev/v1) in the YAML files under `dir` (recursively, skipping
 * kustomization files), sorted by file then document order. Throws on YAML errors and on
 * Trigger documents whose spec is malformed.
 */
export async function loadTriggers(dir: string = KNATIVE_DIR): Promise<Trigger[]> {
  const triggers: Trigger[] = [];
  for (const file of await yamlFiles(dir)) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as unknown;
      if (!value || typeof value !== 'object' || (value as { kind?: unknown }).kind !== 'Trigger') continue;
      const parsed = TriggerObject.safeParse(value);
      if (!parsed.success) {
        throw new TriggerFilterError('TRIGGER_FILTER_INVALID', `${file}: not a valid Trigger: ${z.prettifyError(parsed.error)}`);
      }
      const { metadata, spec } = parsed.data;
      triggers.push({
        apiVersion: parsed.data.apiVersion,
        kind: parsed.data.kind,
        metadata,
        name: metadata.name,
        namespace: metadata.namespace,
        broker: spec.broker,
        path: pathOf(spec.subscriber?.uri),
        subscriber: spec.subscriber,
        spec,
        file: relative(dir, file),
      });
    }
  }
  return triggers;
}
