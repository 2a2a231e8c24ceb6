// A small Kubernetes REST client on undici: exactly the verbs the operator
// uses (get, list, server-side apply, create, patch, delete), typed errors, and a
// count of reads and writes so "an unchanged Streamer costs zero writes" can
// be measured. Connection and credentials come from a KubeTransport (see
// config.ts), so tests and the functions share this code. What it adds over a
// bare request, as client-go does: lists are read in pages (`limit` and
// `continue`), a 429 (or a 5xx with Retry-After) is retried after the server's
// Retry-After, and our own writes are validated strictly (`fieldValidation=Strict`:
// a misspelled field in a builder is an error, not silently dropped).
//
// Every request goes through `send` (one HTTP exchange) inside `call` (retries
// and counting): the one place to wrap for rate limiting or in-flight bounds.
import { request, type Dispatcher } from 'undici';
import { KubeApiError, KubeNetworkError } from './errors.ts';
import { createListSplitter } from './list-items.ts';
import { resourceOf, resourcePath } from './resources.ts';

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
    creationTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
};

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

export type KubeTransport = {
  /** `https://host:port`, no trailing slash. */
  server: string;
  /** The connection pool; read it per request, after `headers()` (it changes when the TLS credentials do). */
  readonly dispatcher: Dispatcher;
  /** Authorization and other headers (lowercase names); called per request so rotated or expiring credentials are refreshed. */
  headers(): Promise<Record<string, string>>;
};

export type ObjectKey = { apiVersion: string; kind: string; namespace?: string; name: string };

/** HTTP requests sent (a retried request counts each time); `throttled`, the 429s among them, only when there were any. */
export type RequestStats = { reads: number; writes: number; throttled?: number };

export type RetryPolicy = {
  /** Retries of one request after a 429 (or a 503 with Retry-After); then its KubeApiError is thrown. */
  maxRetries: number;
  /** Upper bound of one wait, whatever Retry-After says. */
  maxDelayMs: number;
  /** The wait when the server sent no usable Retry-After. */
  defaultDelayMs: number;
};

/** client-go retries 10 times; the functions answer the Broker within its delivery timeout, so fewer. */
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, maxDelayMs: 10_000, defaultDelayMs: 1_000 };

/** client-go's pager reads 500 items per page. */
export const DEFAULT_PAGE_SIZE = 500;

export type DeleteOptions = {
  /** Foreground: the object stays (with a deletionTimestamp) until the garbage collector has removed its dependents. */
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
};

export type KubeClient = {
  /** The object, or null when it does not exist. */
  get<T extends KubeObject = KubeObject>(key: ObjectKey): Promise<T | null>;
  /** Every matching object, read in pages of `pageSize` (a request per page). */
  list<T extends KubeObject = KubeObject>(query: {
    apiVersion: string;
    kind: string;
    namespace?: string;
    labelSelector?: string;
  }): Promise<T[]>;
  /**
   * One page of a list: at most `limit` items and the token for the next page (none on the
   * last). Items carry apiVersion and kind, like list's.
   */
  listPage<T extends KubeObject = KubeObject>(query: {
    apiVersion: string;
    kind: string;
    namespace?: string;
    labelSelector?: string;
    limit: number;
    continue?: string;
    /**
     * Ask for metadata only (a PartialObjectMetadataList): each item is apiVersion, kind and
     * metadata, no spec or status. For callers that decide from labels, annotations and owners
     * alone; a page of Pods is then a fraction of its full size.
     */
    metadataOnly?: boolean;
  }): Promise<{ items: T[]; continue?: string }>;
  /**
   * listPage without holding the page: each item goes to `each` as soon as it has arrived and
   * been parsed (lib/kube/list-items.ts), so only one item is held at a time. Resolves with the
   * count and the next page's token once the body has ended.
   */
  streamPage<T extends KubeObject = KubeObject>(query: PageQuery, each: (item: T) => void): Promise<{ count: number; continue?: string }>;
  /** Server-side apply under the client's field manager; `force` takes over conflicting fields. */
  apply<T extends KubeObject = KubeObject>(
    object: KubeObject,
    options?: { force?: boolean; subresource?: 'status'; fieldManager?: string },
  ): Promise<T>;
  /** POST; throws KubeApiError 409 AlreadyExists when it exists. Every write validates fields strictly. */
  create<T extends KubeObject = KubeObject>(object: KubeObject): Promise<T>;
  /** JSON merge patch, or JSON patch when `body` is an array. */
  patch<T extends KubeObject = KubeObject>(key: ObjectKey, body: unknown, options?: { subresource?: 'status' }): Promise<T>;
  /**
   * DELETE with DeleteOptions. `preconditions.uid` makes it delete only the object that was
   * read (a replacement under the same name answers 409). Resolves false when it was already gone.
   */
  delete(key: ObjectKey, options?: DeleteOptions): Promise<boolean>;
  readonly fieldManager: string;
  /** Requests made so far by this client. */
  stats(): RequestStats;
};

/** A page of a list (listPage's and streamPage's query). */
export type PageQuery = Parameters<KubeClient['listPage']>[0];

export type KubeRequest = {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: { type: string; data: string };
  /** @default 'application/json' */
  accept?: string;
};

/** What a metadata-only list asks for (the API server's PartialObjectMetadataList). */
export const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export type KubeResponse = { statusCode: number; headers: Record<string, string | string[] | undefined>; text: string };

/**
 * One HTTP exchange with the API server; network failures become KubeNetworkError. With
 * `sink`, a successful (< 400) response's body goes to it chunk by chunk as it arrives and
 * `text` is empty; what `sink` throws ends the exchange and is rethrown as it is.
 */
export async function send(
  transport: KubeTransport,
  { method, path, body, accept = 'application/json' }: KubeRequest,
  timeoutMs: number,
  sink?: (chunk: Uint8Array) => void,
): Promise<KubeResponse> {
  const headers: Record<string, string> = { ...(await transport.headers()), accept };
  if (body) headers['content-type'] = body.type;
  const failed: { error?: unknown } = {};
  try {
    const response = await request(`${transport.server}${path}`, {
      method,
      headers,
      body: body?.data,
      dispatcher: transport.dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (!sink || response.statusCode >= 400) return { statusCode: response.statusCode, headers: response.headers, text: await response.body.text() };
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      try {
        sink(chunk);
      } catch (error) {
        failed.error = error;
        response.body.destroy();
        break;
      }
    }
    if ('error' in failed) throw failed.error;
    return { statusCode: response.statusCode, headers: response.headers, text: '' };
  } catch (cause) {
    if ('error' in failed && cause === failed.error) throw cause;
    throw new KubeNetworkError(`${method} ${path} could not reach the API server: ${(cause as Error).message}`, { cause });
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unusable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function apiError(method: string, path: string, response: KubeResponse): KubeApiError {
  let reason = 'Unknown';
  let message = response.text.slice(0, 500);
  try {
    const status = JSON.parse(response.text) as { reason?: string; message?: string };
    reason = status.reason ?? reason;
    message = status.message ?? message;
  } catch {
    // Not a metav1.Status (e.g. a proxy's HTML page): keep the raw text.
  }
  const wait = retryAfterMs(response.headers['retry-after']);
  return new KubeApiError({ method, path, statusCode: response.statusCode, reason, message, ...(wait !== undefined ? { retryAfterSeconds: wait / 1000 } : {}) });
}

export function createKubeClient({
  transport,
  fieldManager,
  timeoutMs = 10_000,
  retry = DEFAULT_RETRY,
  pageSize = DEFAULT_PAGE_SIZE,
}: {
  transport: KubeTransport;
  fieldManager: string;
  timeoutMs?: number;
  retry?: RetryPolicy;
  pageSize?: number;
}): KubeClient {
  const counts = { reads: 0, writes: 0, throttled: 0 };

  /** One request with its retries; the parsed body, or undefined when `sink` took it (see send). */
  async function call(method: KubeRequest['method'], path: string, body?: { type: string; data: string }, accept?: string, sink?: (chunk: Uint8Array) => void) {
    for (let attempt = 0; ; attempt++) {
      if (method === 'GET') counts.reads++;
      else counts.writes++;
      const response = await send(transport, { method, path, ...(body ? { body } : {}), ...(accept ? { accept } : {}) }, timeoutMs, sink);
      if (response.statusCode < 400) return sink ? undefined : (JSON.parse(response.text) as unknown);
      // The API server sends 429 when priority and fairness (or max-in-flight) rejects a request
      // before running it, so any verb may be sent again; client-go also retries a 5xx that
      // carries Retry-After (an overloaded or starting server).
      const wait = retryAfterMs(response.headers['retry-after']);
      const throttled = response.statusCode === 429 || (response.statusCode >= 500 && wait !== undefined);
      if (response.statusCode === 429) counts.throttled++;
      if (!throttled || attempt >= retry.maxRetries) throw apiError(method, path, response);
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait ?? retry.defaultDelayMs, retry.maxDelayMs)));
    }
  }

  // Strict: an unknown or duplicated field in what we send is an error (400/422) instead of a
  // warning with the field dropped. (An apply with an unknown field fails even without it: the
  // server cannot build the typed patch and answers 500 "field not declared in schema".)
  const writeParams = (manager = fieldManager) => new URLSearchParams({ fieldManager: manager, fieldValidation: 'Strict' });

  const pathOf = (key: { apiVersion: string; kind: string; namespace?: string; name?: string }, subresource?: string) =>
    resourcePath(resourceOf(key.apiVersion, key.kind), { namespace: key.namespace, name: key.name, subresource });

  /** streamPage of the KubeClient (see there). */
  async function streamPage<T extends KubeObject>(query: PageQuery, each: (item: T) => void) {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.labelSelector) params.set('labelSelector', query.labelSelector);
    if (query.continue) params.set('continue', query.continue);
    const accept = query.metadataOnly ? METADATA_LIST_ACCEPT : undefined;
    let count = 0;
    const splitter = createListSplitter((text) => {
      // List items carry no apiVersion/kind (a PartialObjectMetadataList's say PartialObjectMetadata): set the listed kind's.
      const item = JSON.parse(text) as T;
      item.apiVersion = query.apiVersion;
      item.kind = query.kind;
      count++;
      each(item);
    });
    await call('GET', `${pathOf(query)}?${params}`, undefined, accept, (chunk) => splitter.write(chunk));
    // An empty PartialObjectMetadataList comes as `"items": null` (its Go slice has no omitempty): no item, no error.
    const token = (splitter.end() as { metadata?: { continue?: string } }).metadata?.continue;
    return token ? { count, continue: token } : { count };
  }

  return {
    fieldManager,
    stats: (): RequestStats => {
      const { throttled, ...rest } = counts;
      return throttled ? { ...rest, throttled } : rest;
    },
    async get<T extends KubeObject>(key: ObjectKey) {
      try {
        return (await call('GET', pathOf(key))) as T;
      } catch (error) {
        if (error instanceof KubeApiError && error.statusCode === 404) return null;
        throw error;
      }
    },
    async list<T extends KubeObject>(query: { apiVersion: string; kind: string; namespace?: string; labelSelector?: string }) {
      const items: T[] = [];
      let token: string | undefined;
      do {
        // Every page repeats the query; the token says where the snapshot of the first page goes on.
        const page = await streamPage<T>({ ...query, limit: pageSize, ...(token ? { continue: token } : {}) }, (item) => items.push(item));
        token = page.continue;
      } while (token);
      return items;
    },
    async listPage<T extends KubeObject>(query: PageQuery) {
      const items: T[] = [];
      const page = await streamPage<T>(query, (item) => items.push(item));
      return page.continue ? { items, continue: page.continue } : { items };
    },
    streamPage,
    async apply<T extends KubeObject>(
      object: KubeObject,
      options: { force?: boolean; subresource?: 'status'; fieldManager?: string } = {},
    ) {
      const params = writeParams(options.fieldManager);
      if (options.force) params.set('force', 'true');
      const path = `${pathOf({ ...object, ...object.metadata }, options.subresource)}?${params}`;
      return (await call('PATCH', path, { type: 'application/apply-patch+yaml', data: JSON.stringify(object) })) as T;
    },
    async create<T extends KubeObject>(object: KubeObject) {
      const path = `${pathOf({ apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace })}?${writeParams()}`;
      return (await call('POST', path, { type: 'application/json', data: JSON.stringify(object) })) as T;
    },
    async patch<T extends KubeObject>(key: ObjectKey, body: unknown, options: { subresource?: 'status' } = {}) {
      const type = Array.isArray(body) ? 'application/json-patch+json' : 'application/merge-patch+json';
      const path = `${pathOf(key, options.subresource)}?${writeParams()}`;
      return (await call('PATCH', path, { type, data: JSON.stringify(body) })) as T;
    },
    async delete(key: ObjectKey, options: DeleteOptions = {}) {
      const body = { apiVersion: 'v1', kind: 'DeleteOptions', ...options };
      try {
        await call('DELETE', pathOf(key), { type: 'application/json', data: JSON.stringify(body) });
        return true;
      } catch (error) {
        if (error instanceof KubeApiError && error.statusCode === 404) return false;
        throw error;
      }
    },
  };
}
