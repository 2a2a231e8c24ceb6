// A local stand-in for one Flussonic media server's HTTP API: a real node:http server on a
// loopback address (a kwok pod's IP such as 127.100.0.5 and its API port, or 127.0.0.1:0),
// with the pod's edit_auth. Used by tests and by `npm start`. Endpoints: routes.ts.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { mediaBaseUrl } from '../../lib/media/base-url.ts';
import { parseEditAuth } from '../../lib/media/edit-auth.ts';
import { API_PREFIX } from '../../lib/media/client.ts';
import { checkAuthorization, type AuthScheme } from './auth.ts';
import type { DoubleConfig } from './config-model.ts';
import { parseConfigText } from './config-text.ts';
import { json, route, type ApiResponse, type DoubleState } from './routes.ts';

/**
 * Misbehaviour to simulate. `path` (e.g. '/config', relative to /streamer/api/v3) limits a
 * fault to one endpoint; `times` limits it to the next N matching requests (then it clears).
 * - status: answer every matching request with this status (body {"error": <atom>});
 * - slow: wait `ms` before handling the request normally;
 * - reset: destroy the connection without answering;
 * - readiness-failing: readiness answers 503 {"error":"unavailable"}, stats say `starting`.
 */
export type MediaDoubleFault =
  | { kind: 'status'; status: number; path?: string; times?: number }
  | { kind: 'slow'; ms: number; path?: string; times?: number }
  | { kind: 'reset'; path?: string; times?: number }
  | { kind: 'readiness-failing' };

/** One request as the double received it; the Authorization header is left out. */
export type RecordedRequest = {
  method: string;
  /** Path with query, e.g. /streamer/api/v3/config. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  authScheme: AuthScheme;
  /** Whether the credentials matched edit_auth at the time. */
  authorized: boolean;
  /** Kind of the fault applied to this request, if any. */
  fault?: MediaDoubleFault['kind'];
};

export type MediaDoubleOptions = {
  /** Loopback address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 0 */
  port?: number;
  /** The server's edit_auth, `login:password` (as FLUSSONIC_EDIT_AUTH gives it). */
  editAuth: string;
  /** Config text on "disk" at start. An invalid one starts the double in crash mode (stats say broken_config). */
  initialConfig?: string;
};

export type MediaDouble = {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every request received, in order (appended to; tests may clear it with `received.length = 0`). */
  readonly received: RecordedRequest[];
  /** The saved config text. */
  readonly config: string;
  /** The saved config as the double's JSON model. */
  readonly configJson: DoubleConfig;
  setFault(fault: MediaDoubleFault | null): void;
  /** Changes the credentials the double accepts (`login:password`). */
  setEditAuth(editAuth: string): void;
  /** Closes the listener and every open connection; pending slow answers are dropped. Idempotent. */
  stop(): Promise<void>;
};

const MAX_BODY = 1024 * 1024;

/** Starts the double and resolves once it listens. */
export async function startMediaDouble(options: MediaDoubleOptions): Promise<MediaDouble> {
  parseEditAuth(options.editAuth);
  const initial = parseConfigText(options.initialConfig ?? '');
  const state: DoubleState = {
    editAuth: options.editAuth,
    configText: options.initialConfig ?? '',
    configJson: initial.ok ? initial.config : {},
    configError: initial.ok ? null : initial.error,
    configVersion: 1,
    readinessFailing: false,
    startedAt: Math.floor(Date.now() / 1000),
    id: randomUUID(),
  };
  const received: RecordedRequest[] = [];
  const stopping = new AbortController();
  let fault: MediaDoubleFault | null = null;

  /** The request fault to apply now, if any (consumes one of its `times`). */
  const takeFault = (apiPath: string) => {
    if (fault === null || fault.kind === 'readiness-failing') return undefined;
    if (fault.path !== undefined && fault.path !== apiPath) return undefined;
    const taken = fault;
    if (taken.times !== undefined) fault = taken.times > 1 ? { ...taken, times: taken.times - 1 } : null;
    return taken;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://double');
    const apiPath = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : undefined;
    const auth = checkAuthorization(req.headers.authorization, state.editAuth);
    const { authorization: _omitted, ...headers } = req.headers;
    const record: RecordedRequest = { method: req.method ?? '', path: req.url ?? '/', headers, body, authScheme: auth.scheme, authorized: auth.authorized };
    received.push(record);
    if (apiPath === undefined) return send(res, json(404, { error: 'not_found' }));

    const active = takeFault(apiPath);
    if (active !== undefined) record.fault = active.kind;
    if (active?.kind === 'reset') return void req.socket.destroy();
    if (active?.kind === 'status') return send(res, json(active.status, { error: statusAtom(active.status) }));
    if (active?.kind === 'slow') await sleep(active.ms, undefined, { signal: stopping.signal });

    send(res, route(state, { method: req.method ?? '', apiPath, accept: req.headers.accept ?? '', contentType: req.headers['content-type'] ?? '', body, authorized: auth.authorized }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Aborted sleeps (stop) and client disconnects land here; answer if the socket still can.
      if (!res.headersSent && !res.destroyed) send(res, json(500, { error: 'crashed' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;

  return {
    url: mediaBaseUrl({ podIP: address.address, port: address.port }),
    host: address.address,
    port: address.port,
    received,
    get config() {
      return state.configText;
    },
    get configJson() {
      return state.configJson;
    },
    setFault(next) {
      fault = next;
      state.readinessFailing = next?.kind === 'readiness-failing';
    },
    setEditAuth(editAuth) {
      parseEditAuth(editAuth);
      state.editAuth = editAuth;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        stopping.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

function send(res: ServerResponse, response: ApiResponse): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(response.status, { 'content-type': response.contentType, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The error atoms the real request handler uses for these statuses (flussonic-api.md §1.3). */
function statusAtom(status: number): string {
  const atoms: Record<number, string> = { 400: 'bad_request', 404: 'not_found', 405: 'unknown_operation', 500: 'crashed', 501: 'not_implemented', 503: 'unavailable' };
  return atoms[status] ?? 'fault';
}
