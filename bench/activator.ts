// Stands in for Knative Serving's activator in front of a revision with containerConcurrency set
// (Serving cannot run here): when a burst exceeds the revision's spare capacity the activator
// stays in the request path, holds requests in a queue (per revision, thousands deep), and hands
// each replica at most containerConcurrency at a time, least-loaded first. Without it a burst
// goes straight to the replicas, whose own bound (lib/runtime/work-gate.ts, like queue-proxy's
// queue) refuses it with 503 and leaves it to the Broker's retries. Loopback only; one small
// HTTP proxy, no other Serving behaviour (no scaling, no timeouts of its own).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export type Activator = {
  url: string;
  stats(): { queued: number; maxQueued: number; forwarded: number; abandoned: number; maxWaitMs: number };
  stop(): Promise<void>;
};

export async function startActivator({ upstreams, concurrency }: { upstreams: readonly string[]; concurrency: number }): Promise<Activator> {
  const inFlight = upstreams.map(() => 0);
  const queue: ((upstream: number) => void)[] = [];
  let maxQueued = 0;
  let forwarded = 0;
  let maxWaitMs = 0;
  let abandoned = 0;

  const freeUpstream = () => {
    let best = -1;
    for (let i = 0; i < upstreams.length; i++) if (inFlight[i]! < concurrency && (best < 0 || inFlight[i]! < inFlight[best]!)) best = i;
    return best;
  };
  const pump = () => {
    for (let free = freeUpstream(); free >= 0 && queue.length > 0; free = freeUpstream()) {
      inFlight[free]!++;
      queue.shift()!(free);
    }
  };
  const slot = () => new Promise<number>((resolve) => {
    queue.push(resolve);
    maxQueued = Math.max(maxQueued, queue.length);
    pump();
  });

  const body = (req: IncomingMessage) => new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });

  const server: Server = createServer((req, res) => {
    let gone = false;
    res.on('close', () => (gone = true));
    void (async () => {
      const data = await body(req);
      const queuedAt = performance.now();
      const upstream = await slot();
      maxWaitMs = Math.max(maxWaitMs, performance.now() - queuedAt);
      // The sender gave up while this waited (its own timeout): nothing to forward.
      if (gone) {
        inFlight[upstream]!--;
        abandoned++;
        pump();
        return;
      }
      try {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length')) as Record<string, string>;
        const response = await request(`${upstreams[upstream]}${req.url ?? '/'}`, { method: 'POST', headers, body: data, headersTimeout: 120_000, bodyTimeout: 120_000 });
        const text = await response.body.arrayBuffer();
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string' && !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(k)) out[k] = v;
        res.writeHead(response.statusCode, out).end(Buffer.from(text));
      } catch {
        res.writeHead(502).end();
      } finally {
        forwarded++;
        inFlight[upstream]!--;
        pump();
      }
    })();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => ({ queued: queue.length, maxQueued, forwarded, abandoned, maxWaitMs }),
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
