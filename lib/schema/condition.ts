// The metav1.Condition shape, as embedded in the Streamer CRD's status.
import { z } from 'zod';

export const ConditionStatus = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof ConditionStatus)[number];

/** metav1.Condition: one aspect of the Streamer's state, keyed by `type` in status.conditions. */
export const Condition = z.object({
  type: z.string().max(316).regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
  ),
  status: z.enum(ConditionStatus),
  reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768),
  /** RFC 3339 date-time, e.g. "2026-01-14T10:00:00Z". */
  lastTransitionTime: z.iso.datetime({ offset: true }),
  observedGeneration: z.int().min(0).optional(),
});
export type Condition = z.infer<typeof Condition>;
