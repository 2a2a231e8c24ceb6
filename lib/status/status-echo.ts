// Status echoes. Every status write is a Streamer update, and the Streamers source sends it to
// all three Triggers: about fifteen deliveries per new Streamer, each costing each function
// its usual reads. An update that leaves the generation as it is can change none of a
// function's inputs but the Streamer's status and metadata; a function whose own condition
// was computed for this generation, from inputs that send events of their own (a child, the
// Pod, the Secret), learns nothing from it and answers it without a read. Add events, resync
// ticks and a condition still Unknown (a retry is pending) are always worked.
import type { Cause } from '../runtime/streamer-function.ts';
import type { Condition } from '../schema/condition.ts';
import type { Streamer } from '../schema/streamer.ts';
import { findCondition } from './condition.ts';

/**
 * The function's own condition of `type` when `cause` is a Streamer update and the condition
 * was computed for the Streamer's current generation and is not Unknown; else undefined.
 * `cause` is absent for a resync tick or a re-run after a status conflict.
 */
export function answeredForGeneration(streamer: Streamer, type: string, cause: Cause | undefined): Condition | undefined {
  if (cause?.kind !== 'Streamer' || cause.action !== 'update') return undefined;
  const generation = streamer.metadata.generation;
  const condition = findCondition(streamer, type);
  if (generation === undefined || condition?.observedGeneration !== generation || condition.status === 'Unknown') return undefined;
  return condition;
}
