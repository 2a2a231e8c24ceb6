// Deciding whether a child needs a write, without writing. An unchanged
// Streamer must cost zero writes, so every apply is guarded by two checks:
// - the hash of what we would apply differs from the hash we stamped on the
//   live object at our last apply (the spec changed, or a field was removed
//   from what we want: server-side apply then drops it), or
// - some field we want is not what the live object holds (someone edited an
//   owned field by hand: the apply reverts it).
// Fields that others own and we do not send are never compared, so they survive.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/client.ts';

export const APPLIED_HASH_ANNOTATION = 'streamer.flussonic.com/applied-hash';

/** A stable hash of a JSON value (object keys sorted). */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The desired object with its own hash stamped into metadata.annotations. */
export function stampHash<T extends KubeObject>(desired: T): T {
  const hash = stableHash(desired);
  return {
    ...desired,
    metadata: { ...desired.metadata, annotations: { ...desired.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash } },
  };
}

/**
 * True when every field of `desired` has the same value in `live`. Lists must
 * have the same length and match element by element; numbers and their string
 * form are equal (the API server normalises quantities and int-or-string).
 * Undefined in `desired` means "not sent".
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  return subset(desired, live, false, undefined, undefined);
}

/**
 * isSubset as the API server stores what we send: also equal are a quantity and its canonical
 * form (`1024Mi` is stored as `1Gi`, `0.5` as `500m`) in quantity fields, and a zero value we send
 * (false, '', 0) and its absence (Go's omitempty drops it). Used to decide whether to apply, so a
 * valid spec whose stored form differs from what we send costs no write on every reconcile.
 */
export function matchesStored(desired: unknown, live: unknown): boolean {
  return subset(desired, live, true, undefined, undefined);
}

/** Field names whose values are resource.Quantity in the objects the operator writes. */
const QUANTITY_FIELDS = new Set(['sizeLimit', 'divisor', 'storage']);
/** Objects whose every value is a resource.Quantity (ResourceList). */
const QUANTITY_MAPS = new Set(['limits', 'requests', 'capacity']);

function subset(desired: unknown, live: unknown, normalise: boolean, key: string | undefined, parent: string | undefined): boolean {
  if (desired === undefined) return true;
  if (desired === null) return live === null || live === undefined;
  if (normalise && (live === undefined || live === null) && (desired === false || desired === '' || desired === 0)) return true;
  if (Array.isArray(desired)) {
    // The API server drops empty lists; an empty list we send matches an absent one.
    if (desired.length === 0 && (live === undefined || live === null)) return true;
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => subset(d, live[i], normalise, undefined, key));
  }
  if (typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) {
      // An empty object we send may be absent or null on the server.
      return Object.keys(desired).length === 0 && (live === undefined || live === null);
    }
    return Object.entries(desired as Record<string, unknown>).every(([k, value]) =>
      subset(value, (live as Record<string, unknown>)[k], normalise, k, key),
    );
  }
  if (normalise && (QUANTITY_FIELDS.has(key ?? '') || QUANTITY_MAPS.has(parent ?? ''))) {
    const [a, b] = [parseQuantity(desired), parseQuantity(live)];
    if (a && b) return a.num * b.den === b.num * a.den;
  }
  if (typeof desired === 'number' || typeof live === 'number') return String(desired) === String(live);
  return desired === live;
}

/** Whether applying `stamped` (the output of stampHash) to `live` would change anything we own. */
export function needsApply(stamped: KubeObject, live: KubeObject | null): boolean {
  if (!live) return true;
  return !matchesStored(stamped, live);
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * A resource.Quantity as an exact fraction num/den, or undefined when `value` is not one.
 * Grammar as in apimachinery: sign, decimal, then a binary (Ki..Ei), decimal (n..E) or
 * exponent (e3, E-2) suffix.
 */
export function parseQuantity(value: unknown): { num: bigint; den: bigint } | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = /^([+-]?)(\d+)?(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === undefined && !match[3])) return undefined;
  const [, sign, whole = '', fraction = '', suffix, exponent] = match;
  let num = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(fraction.length);
  if (suffix && suffix in BINARY) num *= 2n ** BigInt(BINARY[suffix] ?? 0);
  const power = suffix !== undefined && suffix in DECIMAL ? (DECIMAL[suffix] ?? 0) : exponent !== undefined ? Number(exponent) : 0;
  if (power >= 0) num *= 10n ** BigInt(power);
  else den *= 10n ** BigInt(-power);
  return { num, den };
}
