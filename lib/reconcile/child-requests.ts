// Remembers which child each failed Kubernetes request was about, without changing what is
// thrown: reconcileChildren branches on the KubeApiError it receives (409 for a compare-and-
// swap, 404 for a vanished Pod), so errors must pass through untouched. The ChildrenReady
// condition then names the child the API server refused.
import type { KubeClient, KubeObject, ObjectKey } from '../kube/client.ts';

export type ChildRef = { kind: string; name: string };

export type ObservedKube = {
  kube: KubeClient;
  /** The child the request that threw `error` was about, when it came from this client. */
  childOf(error: unknown): ChildRef | undefined;
};

export function observeChildRequests(inner: KubeClient): ObservedKube {
  const failed = new WeakMap<object, ChildRef>();
  const track = async <T>(ref: ChildRef, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error !== null && typeof error === 'object' && !failed.has(error)) failed.set(error, ref);
      throw error;
    }
  };
  const refOfObject = (object: KubeObject): ChildRef => ({ kind: object.kind, name: object.metadata.name });
  const refOfKey = (key: ObjectKey): ChildRef => ({ kind: key.kind, name: key.name });
  // Spread first: methods this wrapper does not watch (list, stats, any added later) stay the inner client's.
  const kube: KubeClient = {
    ...inner,
    get: <T extends KubeObject>(key: ObjectKey) => track(refOfKey(key), () => inner.get<T>(key)),
    apply: <T extends KubeObject>(object: KubeObject, options?: Parameters<KubeClient['apply']>[1]) =>
      track(refOfObject(object), () => inner.apply<T>(object, options)),
    create: <T extends KubeObject>(object: KubeObject) => track(refOfObject(object), () => inner.create<T>(object)),
    patch: <T extends KubeObject>(key: ObjectKey, body: unknown, options?: Parameters<KubeClient['patch']>[2]) =>
      track(refOfKey(key), () => inner.patch<T>(key, body, options)),
  };
  return {
    kube,
    childOf(error) {
      let current: unknown = error;
      for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
        const ref = failed.get(current);
        if (ref) return ref;
        current = (current as { cause?: unknown }).cause;
      }
      return undefined;
    },
  };
}
