// What stands in front of functions-framework's express app: functions-framework parses every
// body itself (body-parser, limit 1 GB, keeping a raw copy as well) and its error handler logs a
// snippet of a body that is not JSON; it has no option for either. This guard answers first:
//   - func's probes (GET /health/*) pass untouched;
//   - the sender is authenticated (event-auth.ts) from the headers alone, before a body byte is
//     read: 401 without a valid token, and nothing else is asked of the API server;
//   - a body above the limit is refused with 413 from its Content-Length, or, when it is
//     streamed, as soon as the count passes the limit (nothing beyond it is kept);
//   - a JSON body is parsed here, never logged, 400 when it is not JSON; the parsed body is
//     handed on as express's body-parser would leave it (`req.body`, `req._body = true`, which
//     every body-parser parser takes as "already parsed" and skips), without a raw copy.
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Logger } from './log.ts';
import { EventAuthError, type EventVerifier } from './event-auth.ts';

/**
 * The default body limit. The largest event is the Streamers source's Resource-mode event: the
 * whole Streamer, which the API server caps at 1.5 MiB per object (etcd's request limit,
 * --max-request-bytes default); with the CloudEvent's JSON around it 2 MiB holds every valid one.
 */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

export type GuardOptions = {
  maxBodyBytes: number;
  /** Undefined: deliveries are not authenticated (EVENT_AUTH=none). */
  verifier?: EventVerifier;
  log: Logger;
};

type Parsed = IncomingMessage & { body?: unknown; _body?: boolean };

function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}, close = true): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...(close ? { connection: 'close' } : {}), ...headers });
  res.end(text);
}

/** How much of a refused body is read and thrown away before the connection is cut. */
const DRAIN_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 10_000;

/**
 * Refuses a request whose body is not wanted (unauthenticated, too large): answers at once, then
 * reads the rest of the body and throws it away, keeping the connection open until it ends (up
 * to DRAIN_BYTES or DRAIN_MS, then it is cut). Closing while the client still sends made the
 * kernel reset the connection, and a client that sends the whole body before reading — the
 * tests' delivery proxy, a dispatcher — lost the answer with it (EPIPE instead of 413).
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  let drained = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) cut();
  });
  req.on('close', () => clearTimeout(timer));
  req.resume();
  answer(res, status, text, headers, false); // the connection stays open while the body arrives
}

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Reads at most `limit` bytes; undefined when the body is longer (the request is then drained, not kept). */
function readBounded(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}

export function guardRequests(listener: RequestListener, { maxBodyBytes, verifier, log }: GuardOptions): RequestListener {
  return (req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      // Probes; and a request an outer guard has passed already (its body is read and parsed).
      if ((req.method === 'GET' && path.startsWith('/health/')) || (req as Parsed)._body) return listener(req, res);
      if (verifier) {
        try {
          await verifier.verify(header(req, 'authorization'));
        } catch (error) {
          const refused = error instanceof EventAuthError ? error : new EventAuthError('ReviewFailed', String(error));
          log({ function: 'request-guard', outcome: 'unauthenticated', path, code: refused.code, eventId: header(req, 'ce-id'), eventType: header(req, 'ce-type'), error: refused.message });
          // A failed TokenReview or EventPolicy read is the API server's trouble: retried (503).
          if (refused.code === 'ReviewFailed') return refuse(req, res, 503, `authentication unavailable: ${refused.message}\n`);
          return refuse(req, res, 401, `${refused.code}: ${refused.message}\n`, { 'www-authenticate': 'Bearer' });
        }
      }
      const declared = Number(header(req, 'content-length'));
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        log({ function: 'request-guard', outcome: 'too-large', path, bytes: declared, limit: maxBodyBytes, eventId: header(req, 'ce-id') });
        return refuse(req, res, 413, `body of ${declared} bytes is over the limit of ${maxBodyBytes}\n`);
      }
      const body = await readBounded(req, maxBodyBytes);
      if (!body) {
        log({ function: 'request-guard', outcome: 'too-large', path, limit: maxBodyBytes, eventId: header(req, 'ce-id') });
        return refuse(req, res, 413, `body is over the limit of ${maxBodyBytes} bytes\n`);
      }
      const parsed = req as Parsed;
      const type = header(req, 'content-type') ?? '';
      if (/^application\/(cloudevents\+)?json\b/i.test(type) || /\+json\b/i.test(type)) {
        try {
          parsed.body = body.length ? JSON.parse(body.toString('utf8')) : {};
        } catch {
          log({ function: 'request-guard', outcome: 'bad-json', path, bytes: body.length, eventId: header(req, 'ce-id') });
          return answer(res, 400, 'body is not valid JSON\n');
        }
      } else {
        parsed.body = body;
      }
      parsed._body = true;
      return listener(req, res);
    })().catch((error: unknown) => {
      log({ function: 'request-guard', outcome: 'error', error: error instanceof Error ? error.message : String(error) });
      answer(res, 500, 'internal error\n');
    });
  };
}

/** express's app: a request listener with `use` and `handle`. */
const isExpressApp = (listener: unknown): listener is RequestListener =>
  typeof listener === 'function' && 'handle' in listener && 'use' in listener;

let installed = false;

/**
 * Puts the guard in front of every express app this process serves with http.createServer:
 * functions-framework's getServer makes its server that way once the user module (this
 * bundle) is loaded. Other servers are left alone.
 */
export function installRequestGuard(options: GuardOptions): void {
  if (installed) return;
  installed = true;
  const original = http.createServer;
  const patched = ((...args: unknown[]) => {
    const index = args.findIndex(isExpressApp);
    if (index >= 0) args[index] = guardRequests(args[index] as RequestListener, options);
    return (original as (...a: unknown[]) => http.Server)(...args);
  }) as typeof http.createServer;
  http.createServer = patched;
}
