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
  if (desired === undefined) return true;
  if (desired === null) return live === null || live === undefined;
  if (Array.isArray(desired)) {
    // The API server drops empty lists; an empty list we send matches an absent one.
    if (desired.length === 0 && (live === undefined || live === null)) return true;
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]));
  }
  if (typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) {
      // An empty object we send may be absent or null on the server.
      return Object.keys(desired).length === 0 && (live === undefined || live === null);
    }
    return Object.entries(desired as Record<string, unknown>).every(([key, value]) =>
      isSubset(value, (live as Record<string, unknown>)[key]),
    );
  }
  if (typeof desired === 'number' || typeof live === 'number') return String(desired) === String(live);
  return desired === live;
}

/** Whether applying `stamped` (the output of stampHash) to `live` would change anything we own. */
export function needsApply(stamped: KubeObject, live: KubeObject | null): boolean {
  if (!live) return true;
  return !isSubset(stamped, live);
}
