// Reading controller owner references tolerantly: events and API reads are hints here, so a
// malformed reference is skipped rather than fatal.
import { z } from 'zod';
import { STREAMER_GROUP, STREAMER_KIND } from '../schema/streamer.ts';

/** The parts of an owner reference the mapping needs. */
export type OwnerRef = { apiVersion: string; kind: string; name: string };

const OwnerReference = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  controller: z.boolean().optional(),
});
const WithOwners = z.looseObject({
  metadata: z.looseObject({ ownerReferences: z.array(z.unknown()).optional() }),
});

/** The owner reference with `controller: true` (Kubernetes allows one), or null. */
export function controllerOf(object: unknown): OwnerRef | null {
  const parsed = WithOwners.safeParse(object);
  if (!parsed.success) return null;
  for (const candidate of parsed.data.metadata.ownerReferences ?? []) {
    const owner = OwnerReference.safeParse(candidate);
    if (owner.success && owner.data.controller === true) {
      return { apiVersion: owner.data.apiVersion, kind: owner.data.kind, name: owner.data.name };
    }
  }
  return null;
}

/** The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** A Streamer of group media.flussonic.com, any version. */
export function isStreamerRef(ref: { apiVersion: string; kind: string }): boolean {
  return ref.kind === STREAMER_KIND && groupOf(ref.apiVersion) === STREAMER_GROUP;
}

/** An apps/* StatefulSet. */
export function isStatefulSetRef(ref: { apiVersion: string; kind: string }): boolean {
  return ref.kind === 'StatefulSet' && groupOf(ref.apiVersion) === 'apps';
}
