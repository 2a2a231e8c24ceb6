// An in-memory API server for resolveStreamer: the objects that exist now, and a record of reads.
import type { ObjectKey, ObjectReader } from '../../lib/events/resolve-streamer.ts';

export type FakeReader = ObjectReader & { reads: ObjectKey[] };

const keyOf = (k: ObjectKey) => `${k.apiVersion}|${k.kind}|${k.namespace}|${k.name}`;

/** Objects are keyed by their own apiVersion/kind/metadata.namespace/metadata.name. */
export function fakeReader(objects: Record<string, unknown>[], failWith?: unknown): FakeReader {
  const store = new Map<string, object>();
  for (const object of objects) {
    const { apiVersion, kind, metadata } = object as { apiVersion: string; kind: string; metadata: { namespace: string; name: string } };
    store.set(keyOf({ apiVersion, kind, namespace: metadata.namespace, name: metadata.name }), object);
  }
  const reads: ObjectKey[] = [];
  return {
    reads,
    async get(key) {
      reads.push(key);
      if (failWith !== undefined) throw failWith;
      return store.get(keyOf(key)) ?? null;
    },
  };
}
