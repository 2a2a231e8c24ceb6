// The per-replica rate limiter: the in-flight cap measured from the server's side (a loopback
// HTTP server that records how many requests are open), the token bucket from when it lets
// requests go, and a KubeClient on a limited transport against the real API server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createKubeClient } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { createRateLimiter, limitTransport, rateLimitInterceptor, rateLimitsFromEnv } from '../../lib/kube/rate-limit.ts';
import { useCluster } from '../cluster/shared.ts';

/** A server that answers after `delayMs` and records arrival times and the most requests open at once. */
async function recordingServer(delayMs: number) {
  const seen = { arrivals: [] as number[], open: 0, maxOpen: 0 };
  const server: Server = createServer((_req, res) => {
    seen.arrivals.push(performance.now());
    seen.open++;
    seen.maxOpen = Math.max(seen.maxOpen, seen.open);
    setTimeout(() => {
      seen.open--;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const limits = suite('rate limit');

limits('never more than maxInFlight requests open at the server, and every request is answered', async () => {
  const server = await recordingServer(30);
  const limiter = createRateLimiter({ qps: 0, burst: 1, maxInFlight: 3 });
  const dispatcher = new Agent({ connections: 50 }).compose(rateLimitInterceptor(limiter));
  const statuses = await Promise.all(Array.from({ length: 20 }, async () => {
    const response = await request(`${server.url}/x`, { dispatcher });
    await response.body.text();
    return response.statusCode;
  }));
  assert.equal(statuses, Array(20).fill(200));
  assert.is(server.seen.maxOpen, 3);
  assert.equal(limiter.stats(), { inFlight: 0, waiting: 0, maxInFlightSeen: 3 });
  await dispatcher.close();
  await server.close();
});

limits('a burst goes at once, then requests are paced at qps (never early)', async () => {
  const limiter = createRateLimiter({ qps: 50, burst: 5, maxInFlight: 100 });
  const started = performance.now();
  const granted = await Promise.all(Array.from({ length: 15 }, () => limiter.acquire().then(() => performance.now() - started)));
  // Five at once; then one token every 20 ms: the fifteenth no sooner than 10 × 20 ms later.
  assert.ok((granted[4] ?? 0) < 15, `the burst was granted by ${granted[4]} ms`);
  for (let i = 5; i < 15; i++) assert.ok((granted[i] ?? 0) >= (i - 4) * 20 - 2, `request ${i + 1} granted at ${granted[i]} ms`);
  assert.ok((granted[14] ?? 0) < 2_000, `the fifteenth was granted at ${granted[14]} ms`);
  for (let i = 0; i < 15; i++) limiter.release();
  assert.equal(limiter.stats(), { inFlight: 0, waiting: 0, maxInFlightSeen: 15 });
});

limits('a failed request frees its slot', async () => {
  const limiter = createRateLimiter({ qps: 0, burst: 1, maxInFlight: 1 });
  const dispatcher = new Agent().compose(rateLimitInterceptor(limiter));
  // Nothing listens on port 9 of loopback: connection refused, twice in a row.
  for (let i = 0; i < 2; i++) {
    const error = await request('http://127.0.0.1:9/', { dispatcher }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error);
  }
  assert.is(limiter.stats().inFlight, 0);
  await dispatcher.close();
});

limits('knobs from the environment, with defaults', () => {
  assert.equal(rateLimitsFromEnv({}), { qps: 50, burst: 100, maxInFlight: 16 });
  assert.equal(rateLimitsFromEnv({ KUBE_QPS: '5', KUBE_BURST: '10', KUBE_MAX_IN_FLIGHT: '4' }), { qps: 5, burst: 10, maxInFlight: 4 });
  assert.equal(rateLimitsFromEnv({ KUBE_QPS: 'x', KUBE_BURST: '0', KUBE_MAX_IN_FLIGHT: '' }), { qps: 50, burst: 1, maxInFlight: 16 });
});

limits('a KubeClient on a limited transport: 40 reads of the real API server, at most 4 open', async () => {
  const cluster = await useCluster();
  const transport = limitTransport(await transportFromKubeconfig(cluster.kubeconfig), { qps: 0, burst: 1, maxInFlight: 4 });
  const kube = createKubeClient({ transport, fieldManager: 'rate-limit-test' });
  const found = await Promise.all(Array.from({ length: 40 }, () => kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' })));
  assert.ok(found.every((ns) => ns?.metadata.name === 'default'));
  assert.equal(transport.limiter.stats(), { inFlight: 0, waiting: 0, maxInFlightSeen: 4 });
});

limits.run();
