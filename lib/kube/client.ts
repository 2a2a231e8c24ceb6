// A small Kubernetes REST client on undici: exactly the verbs the operator
// uses (get, list, server-side apply, create, patch, delete), typed errors, and a
// count of reads and writes so "an unchanged Streamer costs zero writes" can
// be measured. Connection and credentials come from a KubeTransport (see
// config.ts), so tests and the functions share this code.
import { request, type Dispatcher } from 'undici';
import { KubeApiError, KubeNetworkError } from './errors.ts';
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
  dispatcher: Dispatcher;
  /** Authorization and other headers; called per request so rotated tokens are picked up. */
  headers(): Promise<Record<string, string>>;
};

export type ObjectKey = { apiVersion: string; kind: string; namespace?: string; name: string };

export type RequestStats = { reads: number; writes: number };

export type DeleteOptions = {
  /** Foreground: the object stays (with a deletionTimestamp) until the garbage collector has removed its dependents. */
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
};

export type KubeClient = {
  /** The object, or null when it does not exist. */
  get<T extends KubeObject = KubeObject>(key: ObjectKey): Promise<T | null>;
  list<T extends KubeObject = KubeObject>(query: {
    apiVersion: string;
    kind: string;
    namespace?: string;
    labelSelector?: string;
  }): Promise<T[]>;
  /** Server-side apply under the client's field manager; `force` takes over conflicting fields. */
  apply<T extends KubeObject = KubeObject>(
    object: KubeObject,
    options?: { force?: boolean; subresource?: 'status'; fieldManager?: string },
  ): Promise<T>;
  /** POST; throws KubeApiError 409 AlreadyExists when it exists. */
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

export function createKubeClient({
  transport,
  fieldManager,
  timeoutMs = 10_000,
}: {
  transport: KubeTransport;
  fieldManager: string;
  timeoutMs?: number;
}): KubeClient {
  const counts: RequestStats = { reads: 0, writes: 0 };

  async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: { type: string; data: string }) {
    if (method === 'GET') counts.reads++;
    else counts.writes++;
    const headers: Record<string, string> = { ...(await transport.headers()), accept: 'application/json' };
    if (body) headers['content-type'] = body.type;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(`${transport.server}${path}`, {
        method,
        headers,
        body: body?.data,
        dispatcher: transport.dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (cause) {
      throw new KubeNetworkError(`${method} ${path} could not reach the API server: ${(cause as Error).message}`, { cause });
    }
    const text = await response.body.text();
    if (response.statusCode >= 400) {
      let reason = 'Unknown';
      let message = text.slice(0, 500);
      try {
        const status = JSON.parse(text) as { reason?: string; message?: string };
        reason = status.reason ?? reason;
        message = status.message ?? message;
      } catch {
        // Not a metav1.Status (e.g. a proxy's HTML page): keep the raw text.
      }
      throw new KubeApiError({ method, path, statusCode: response.statusCode, reason, message });
    }
    return JSON.parse(text) as unknown;
  }

  const pathOf = (key: { apiVersion: string; kind: string; namespace?: string; name?: string }, subresource?: string) =>
    resourcePath(resourceOf(key.apiVersion, key.kind), { namespace: key.namespace, name: key.name, subresource });

  return {
    fieldManager,
    stats: () => ({ ...counts }),
    async get<T extends KubeObject>(key: ObjectKey) {
      try {
        return (await call('GET', pathOf(key))) as T;
      } catch (error) {
        if (error instanceof KubeApiError && error.statusCode === 404) return null;
        throw error;
      }
    },
    async list<T extends KubeObject>(query: { apiVersion: string; kind: string; namespace?: string; labelSelector?: string }) {
      const selector = query.labelSelector ? `?labelSelector=${encodeURIComponent(query.labelSelector)}` : '';
      const list = (await call('GET', pathOf(query) + selector)) as { items: T[] };
      // List items carry no apiVersion/kind; restore them so they can be passed on as objects.
      return list.items.map((item) => ({ ...item, apiVersion: query.apiVersion, kind: query.kind }));
    },
    async apply<T extends KubeObject>(
      object: KubeObject,
      options: { force?: boolean; subresource?: 'status'; fieldManager?: string } = {},
    ) {
      const params = new URLSearchParams({ fieldManager: options.fieldManager ?? fieldManager });
      if (options.force) params.set('force', 'true');
      const path = `${pathOf({ ...object, ...object.metadata }, options.subresource)}?${params}`;
      return (await call('PATCH', path, { type: 'application/apply-patch+yaml', data: JSON.stringify(object) })) as T;
    },
    async create<T extends KubeObject>(object: KubeObject) {
      const path = `${pathOf({ apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace })}?fieldManager=${encodeURIComponent(fieldManager)}`;
      return (await call('POST', path, { type: 'application/json', data: JSON.stringify(object) })) as T;
    },
    async patch<T extends KubeObject>(key: ObjectKey, body: unknown, options: { subresource?: 'status' } = {}) {
      const type = Array.isArray(body) ? 'application/json-patch+json' : 'application/merge-patch+json';
      const path = `${pathOf(key, options.subresource)}?fieldManager=${encodeURIComponent(fieldManager)}`;
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
