// A watch on the API server, read directly (undici streaming GET `?watch=1`):
// the floor every event-driven latency is compared with, and the way the
// benches see children appear without polling. Each event is stamped with
// performance.now() when its line is read.
//
// The API server may end a watch stream at any time without an error: after
// its request timeout, or when the watch cache drops a watcher that did not
// keep up with a burst of events ("forcing watcher close due to
// unresponsiveness"). A bench that only noticed thrown errors then waited for
// events that never came. So a stream that ends while open is resumed from the
// last resourceVersion it delivered (bookmarks keep that current), and
// anything that makes the event sequence incomplete — an ERROR event (e.g.
// 410 Gone: the version fell out of the watch cache), an unparsable line, a
// failed resume, a transport error — marks the watch broken with a message
// that says which watch and why; the waits in children.ts fail on it at once.
import { request } from 'undici';
import type { KubeObject, KubeTransport } from '../lib/kube/client.ts';
import { resourceOf, resourcePath } from '../lib/kube/resources.ts';

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: KubeObject; at: number };

export type WatchStats = {
  /** ADDED/MODIFIED/DELETED events delivered to onEvent. */
  events: number;
  /** Times the server ended the stream and it was resumed. */
  resumes: number;
  /** The last resourceVersion seen (event or bookmark). */
  resourceVersion: string | undefined;
};

export type Watch = {
  /** Ends the stream; events after this are not delivered. */
  close(): Promise<void>;
  /** Set when the event sequence can no longer be trusted to be complete. */
  readonly error: Error | undefined;
  readonly stats: WatchStats;
  /** `kind` in `namespace`, for messages. */
  readonly label: string;
};

/** Resumes allowed per watch; more means the server keeps dropping it (the error says so). */
const MAX_RESUMES = 20;

/**
 * Opens a watch on `kind` in `namespace` and calls `onEvent` for each
 * ADDED/MODIFIED/DELETED event (BOOKMARKs only advance the resourceVersion).
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
  const label = `${kind} in ${namespace}`;
  const base = resourcePath(resourceOf(apiVersion, kind), { namespace });
  const stats: WatchStats = { events: 0, resumes: 0, resourceVersion: undefined };
  let error: Error | undefined;
  let closed = false;
  const fail = (message: string, cause?: unknown) => {
    if (!closed && !error) error = new Error(`watch on ${label} broke after ${stats.events} events, ${stats.resumes} resumes (resourceVersion ${stats.resourceVersion ?? 'none'}): ${message}`, { cause });
  };

  const open = async () => {
    const params = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true' });
    if (stats.resourceVersion) params.set('resourceVersion', stats.resourceVersion);
    const response = await request(`${transport.server}${base}?${params}`, {
      dispatcher: transport.dispatcher,
      headers: { ...(await transport.headers()), accept: 'application/json' },
      signal: abort.signal,
      bodyTimeout: 0, // events may be minutes apart; the stream stays open until closed
    });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw new Error(`GET ${base}?${params} answered ${response.statusCode}: ${text.slice(0, 300)}`);
    }
    return response.body;
  };

  /** Reads one stream to its end; false once the watch is broken or closed. */
  const read = async (body: Awaited<ReturnType<typeof open>>): Promise<boolean> => {
    let buffer = '';
    const decoder = new TextDecoder(); // a chunk may end inside a multi-byte character
    for await (const chunk of body) {
      const at = performance.now();
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.trim() || closed) continue;
        let event: Omit<WatchEvent, 'at'>;
        try {
          event = JSON.parse(line) as Omit<WatchEvent, 'at'>;
        } catch (cause) {
          fail(`unparsable line ${JSON.stringify(line.slice(0, 200))}`, cause);
          return false;
        }
        if (event.type === 'ERROR') {
          const status = event.object as unknown as { code?: number; reason?: string; message?: string };
          fail(`ERROR event ${status.code ?? '?'} ${status.reason ?? ''}: ${status.message ?? JSON.stringify(status).slice(0, 200)}`);
          return false;
        }
        stats.resourceVersion = event.object.metadata.resourceVersion ?? stats.resourceVersion;
        if (event.type === 'BOOKMARK') continue;
        stats.events++;
        try {
          onEvent({ ...event, at });
        } catch (cause) {
          fail(`onEvent threw: ${(cause as Error).message}`, cause);
          return false;
        }
      }
    }
    return !closed;
  };

  const first = await open();
  const done = (async () => {
    let body = first;
    try {
      while (await read(body)) {
        // The server ended the stream cleanly: resume where it stopped.
        if (++stats.resumes > MAX_RESUMES) {
          fail(`the server ended the stream ${MAX_RESUMES} times`);
          return;
        }
        body = await open();
      }
    } catch (cause) {
      fail((cause as Error).message, cause);
    }
  })();
  return {
    label,
    stats,
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
