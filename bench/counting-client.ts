// A KubeClient that tallies its requests by verb and kind, wrapped around the
// real one: what one reconcile of an unchanged Streamer costs, kind by kind.
import type { KubeClient, KubeObject } from '../lib/kube/client.ts';

export type Tally = { reads: Record<string, number>; writes: Record<string, number> };

export function countingClient(kube: KubeClient): { kube: KubeClient; tally: Tally } {
  const tally: Tally = { reads: {}, writes: {} };
  const add = (bucket: Record<string, number>, key: string) => (bucket[key] = (bucket[key] ?? 0) + 1);
  const wrapped: KubeClient = {
    fieldManager: kube.fieldManager,
    stats: () => kube.stats(),
    get(key) {
      add(tally.reads, `GET ${key.kind}`);
      return kube.get(key);
    },
    list(query) {
      add(tally.reads, `LIST ${query.kind}`);
      return kube.list(query);
    },
    listPage(query) {
      add(tally.reads, `LIST ${query.kind}`);
      return kube.listPage(query);
    },
    streamPage(query, each) {
      add(tally.reads, `LIST ${query.kind}`);
      return kube.streamPage(query, each);
    },
    apply(object: KubeObject, options) {
      add(tally.writes, `APPLY ${object.kind}${options?.subresource ? `/${options.subresource}` : ''}`);
      return kube.apply(object, options);
    },
    create(object: KubeObject) {
      add(tally.writes, `CREATE ${object.kind}`);
      return kube.create(object);
    },
    patch(key, body, options) {
      add(tally.writes, `PATCH ${key.kind}${options?.subresource ? `/${options.subresource}` : ''}`);
      return kube.patch(key, body, options);
    },
    delete(key, options) {
      add(tally.writes, `DELETE ${key.kind}`);
      return kube.delete(key, options);
    },
  } as KubeClient;
  return { kube: wrapped, tally };
}
