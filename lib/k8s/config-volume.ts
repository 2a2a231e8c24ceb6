// The name of the Pod volume that carries the `<name>-config` ConfigMap. A user volume may
// take any valid name, including ours (upstream has no such reservation, so refusing it would
// break a Streamer that works there): the documented rule is that the operator's volume takes
// the first of `streamer-operator-config`, `streamer-operator-config-2`, `-3`, ... that no
// volume in spec.volumes uses. Deterministic, so an unchanged Streamer renders the same Pod.
import type { Streamer } from '../schema/streamer.ts';

/** The preferred name; see configVolumeName for when another is used. */
export const CONFIG_VOLUME = 'streamer-operator-config';

export function configVolumeName(streamer: Streamer): string {
  const taken = new Set((streamer.spec.volumes ?? []).map((volume) => volume.name));
  if (!taken.has(CONFIG_VOLUME)) return CONFIG_VOLUME;
  for (let n = 2; ; n++) {
    const candidate = `${CONFIG_VOLUME}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}
