// Which Streamer spec changes the running media server can take without a restart.
//
// hot: applied to the running Pod, never through the StatefulSet's pod template
//   - configExtra, logLevel: the ConfigMap text (the conf.d mount updates in place) and
//     push-config sends it through the media server API (`loglevel` is a config directive,
//     so the log level needs no environment variable and no restart);
//   - publicUrl, labels, annotations: patched onto the live Pod (k8s/pod-metadata.ts).
// restart: everything else changes the pod template, so the StatefulSet rolls the Pod: image,
//   version, env, ports, node, GPUs, volumes, and the licenseKey/editAuth/clusterKey/
//   configExternal* references (they reach the server as environment variables).
// recreate (a subset of restart): selectorLabels. A StatefulSet's selector is immutable, so
//   the StatefulSet must be deleted and created again; the Service selector simply follows.
//
// test/spec-changes.test.ts holds the proof: hot changes leave the pod template byte-identical.
import { StreamerSpec } from './schema/streamer.ts';

export type SpecField = keyof StreamerSpec;

export const HOT_FIELDS = ['configExtra', 'logLevel', 'publicUrl', 'labels', 'annotations'] as const satisfies readonly SpecField[];
export const RECREATE_FIELDS = ['selectorLabels'] as const satisfies readonly SpecField[];

export type SpecChange = {
  /** Changed fields the operator applies without restarting the media server. */
  hot: SpecField[];
  /** Changed fields that restart the media server (the pod template changes). */
  restart: SpecField[];
  /** Changed restart fields that also need the StatefulSet deleted and recreated. */
  recreate: SpecField[];
};

/** Every spec field, in schema order. */
const FIELDS = Object.keys(StreamerSpec.shape) as SpecField[];
const HOT: ReadonlySet<SpecField> = new Set(HOT_FIELDS);
const RECREATE: ReadonlySet<SpecField> = new Set(RECREATE_FIELDS);

/**
 * Compares two parsed specs field by field (deep, key-order-insensitive; an absent field
 * equals an empty map or list, since both render the same objects) and sorts the changed
 * fields into hot and restart.
 */
export function classifySpecChange(before: StreamerSpec, after: StreamerSpec): SpecChange {
  const changed = FIELDS.filter((field) => canonical(before[field]) !== canonical(after[field]));
  return {
    hot: changed.filter((field) => HOT.has(field)),
    restart: changed.filter((field) => !HOT.has(field)),
    recreate: changed.filter((field) => RECREATE.has(field)),
  };
}

/** JSON with sorted object keys; empty maps and lists count as absent. */
function canonical(value: unknown): string {
  return JSON.stringify(normalise(value)) ?? 'undefined';
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(normalise);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}
