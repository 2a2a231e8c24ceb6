// A watch on the API server, read directly (undici streaming GET `?watch=1`):
// the floor every event-driven latency is compared with, and the way the
// benches see children appear without polling. Each event is stamped with
// performance.now() when its line is read.
import { request } from 'undici';
import type { KubeObject, KubeTransport } from '../lib/kube/client.ts';
import { resourceOf, resourcePath } from '../lib/kube/resources.ts';

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: KubeObject; at: number };

export type Watch = {
  /** Ends the stream; events after this are not delivered. */
  close(): Promise<void>;
  /** Set when the stream broke (the bench then fails instead of waiting forever). */
  readonly error: Error | undefined;
};

/**
 * Opens a watch on `kind` in `namespace` and calls `onEvent` for each event.
 * Resolves once the API server answered 200 (the watch is registered from then on).
 */
export async function openWatch({
  transport,
  apiVersion,
  kind,
  namespace,
  onEvent,
}: {
  transport: KubeTransport;
  apiVersion: string;
  kind: string;
  namespace: string;
  onEvent(event: WatchEvent): void;
}): Promise<Watch> {
  const abort = new AbortController();
  const path = `${resourcePath(resourceOf(apiVersion, kind), { namespace })}?watch=1`;
  const response = await request(`${transport.server}${path}`, {
    dispatcher: transport.dispatcher,
    headers: { ...(await transport.headers()), accept: 'application/json' },
    signal: abort.signal,
    bodyTimeout: 0,
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text();
    throw new Error(`watch ${path} answered ${response.statusCode}: ${text.slice(0, 300)}`);
  }
  let error: Error | undefined;
  let closed = false;
  const done = (async () => {
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        const at = performance.now();
        buffer += chunk.toString();
        let newline: number;
        while ((newline = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.trim()) onEvent({ ...(JSON.parse(line) as Omit<WatchEvent, 'at'>), at });
        }
      }
    } catch (cause) {
      if (!closed) error = cause as Error;
    }
  })();
  return {
    get error() {
      return error;
    },
    async close() {
      closed = true;
      abort.abort();
      await done;
    },
  };
}
