// Stands in for kubelet's Pod informer (client-go's reflector): lists the Pods once, then
// watches from that list's resourceVersion and keeps them in memory. A stream the API server
// ends (its request timeout) is resumed from the last resourceVersion seen, bookmarks included;
// an ERROR event (410 Gone: the version left the watch cache), an unreadable line or a failed
// request lists again. The process runner read every Pod with a list every 300 ms before: with
// a thousand streamer Pods that was 10 MB of JSON per round, a core of the API server's time.
import { request } from 'undici';
import type { KubeTransport } from '../../lib/kube/client.ts';

type Listed<T> = { metadata: { resourceVersion: string }; items: T[] };
type WatchLine<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: T & { metadata: { uid?: string; resourceVersion?: string } } };

export type PodInformer<T> = {
  /** The Pods as last seen. */
  pods(): T[];
  stop(): void;
};

/**
 * Starts the informer; resolves once the first list is in. The runner reads it every round
 * (300 ms). `log` gets a line per relist, with the reason.
 */
export async function startPodInformer<T extends { metadata: { uid: string } }>(transport: KubeTransport, log: (line: string) => void): Promise<PodInformer<T>> {
  const byUid = new Map<string, T>();
  let resourceVersion = '';
  let stopped = false;
  const abort = new AbortController();
  const get = async (path: string) =>
    request(`${transport.server}${path}`, { dispatcher: transport.dispatcher, headers: { ...(await transport.headers()), accept: 'application/json' }, signal: abort.signal });

  const list = async () => {
    const response = await get('/api/v1/pods?resourceVersion=0');
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`list pods: ${response.statusCode} ${text.slice(0, 200)}`);
    const listed = JSON.parse(text) as Listed<T>;
    byUid.clear();
    for (const pod of listed.items) byUid.set(pod.metadata.uid, pod);
    resourceVersion = listed.metadata.resourceVersion;
  };

  /** One watch stream from resourceVersion: true when the server ended it (resume), false when it must relist. */
  const watch = async (): Promise<boolean> => {
    const response = await get(`/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}&timeoutSeconds=300`);
    if (response.statusCode !== 200) {
      log(`pod informer: watch answered ${response.statusCode}; listing again`);
      await response.body.text();
      return false;
    }
    let buffered = '';
    for await (const chunk of response.body) {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        let event: WatchLine<T>;
        try {
          event = JSON.parse(line) as WatchLine<T>;
        } catch {
          log('pod informer: unreadable watch line; listing again');
          return false;
        }
        if (event.type === 'ERROR') {
          log(`pod informer: watch error ${JSON.stringify(event.object).slice(0, 200)}; listing again`);
          return false;
        }
        resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
        if (event.type === 'BOOKMARK') continue;
        const uid = event.object.metadata.uid ?? '';
        if (event.type === 'DELETED') byUid.delete(uid);
        else byUid.set(uid, event.object);
      }
    }
    return true;
  };

  await list();
  void (async () => {
    while (!stopped) {
      try {
        if (!(await watch()) && !stopped) await list();
      } catch (error) {
        if (stopped) return;
        log(`pod informer: ${(error as Error).message}; listing again in 1 s`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await list().catch(() => undefined); // the next round says it again
      }
    }
  })();
  return {
    pods: () => [...byUid.values()],
    stop() {
      stopped = true;
      abort.abort();
    },
  };
}
