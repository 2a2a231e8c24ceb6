// The request guard in front of functions-framework's real express app, and the OIDC verifier
// against the real API server: tokens are real ServiceAccount tokens (`kubectl create token`,
// the TokenRequest API, as Knative's token provider asks for them), checked by real
// TokenReviews. Every API request the verifier makes is counted at the transport.
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { suite } from 'uvu';
import { connect } from 'node:net';
import * as assert from 'uvu/assert';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import type { KubeTransport } from '../../lib/kube/client.ts';
import { createEventVerifier, discoverIssuer, EventAuthError, eventPolicySubjects, type EventVerifier } from '../../lib/runtime/event-auth.ts';
import { installEventPolicyCrd } from '../knative/manifests.ts';
import { DEFAULT_MAX_BODY_BYTES, guardRequests, installRequestGuard } from '../../lib/runtime/request-guard.ts';

const cluster = await useCluster();
const kubectl = cluster.kubectl;
const AUDIENCE = 'serving.knative.dev/service/streamer-operator-system/streamer-operator';

/** The admin transport, counting every request sent through it. */
const admin = await transportFromKubeconfig(cluster.kubeconfig);
let apiRequests = 0;
const counted: KubeTransport = {
  server: admin.server,
  get dispatcher() {
    return admin.dispatcher;
  },
  headers: async () => {
    apiRequests++;
    return admin.headers();
  },
};

type Served = { base: string; calls: { body: unknown; rawBody?: unknown }[]; logs: Record<string, unknown>[]; close(): Promise<void> };
let targets = 0;

/** functions-framework's app for a handler that records what reached it, behind the guard. */
async function serve({ maxBodyBytes = DEFAULT_MAX_BODY_BYTES, verifier }: { maxBodyBytes?: number; verifier?: EventVerifier } = {}): Promise<Served> {
  const calls: Served['calls'] = [];
  const logs: Record<string, unknown>[] = [];
  const target = `guarded-${++targets}`;
  ff.http(target, (req, res) => {
    calls.push({ body: req.body, rawBody: (req as { rawBody?: unknown }).rawBody });
    res.status(204).end();
  });
  const app = getTestServer(target).listeners('request')[0] as http.RequestListener;
  const server: Server = http.createServer(guardRequests(app, { maxBodyBytes, verifier, log: (line) => logs.push(line) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    logs,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const timeout = () => AbortSignal.timeout(20_000);
const event = (extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': 'guard-1',
  'ce-source': 'https://127.0.0.1',
  'ce-type': 'dev.knative.sources.ping',
  ...extra,
});

// ---

const limits = suite('request guard: bounded bodies, nothing logged');

limits('a body within the limit reaches the handler parsed, with no raw copy kept', async () => {
  const served = await serve({ maxBodyBytes: 1024 * 1024 });
  try {
    const body = JSON.stringify({ op: 'resync', pad: 'x'.repeat(900 * 1024) });
    const response = await fetch(served.base, { method: 'POST', headers: event(), body });
    assert.is(response.status, 204);
    assert.is(served.calls.length, 1);
    assert.is((served.calls[0]!.body as { op: string }).op, 'resync');
    assert.is(served.calls[0]!.rawBody, undefined);
  } finally {
    await served.close();
  }
});

limits('Content-Length over the limit: 413 before a byte is read, the handler never called', async () => {
  const served = await serve({ maxBodyBytes: 1024 });
  try {
    const response = await fetch(served.base, { method: 'POST', headers: event(), body: JSON.stringify({ pad: 'x'.repeat(2048) }) });
    assert.is(response.status, 413);
    assert.match(await response.text(), /over the limit of 1024/);
    assert.is(served.calls.length, 0);
    assert.is(served.logs[0]?.outcome, 'too-large');
  } finally {
    await served.close();
  }
});

limits('a body over the limit from a client that sends it all before reading the answer (a proxy, a dispatcher): it reads the 413, the connection is not reset under it', async () => {
  const served = await serve({ maxBodyBytes: 1024 * 1024 });
  try {
    const { port } = new URL(served.base);
    const total = 3 * 1024 * 1024;
    const head = `POST / HTTP/1.1\r\nhost: guard\r\ncontent-type: application/json\r\nce-id: big\r\ncontent-length: ${total}\r\n\r\n`;
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      socket.pause(); // nothing is read until the whole body is sent
      let text = '';
      socket.on('error', (error: Error & { code?: string }) => resolve(`${text}[${error.code ?? error.message}]`));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
      void (async () => {
        socket.write(head);
        socket.write(Buffer.alloc(total / 3, 0x61)); // the server answers meanwhile
        await wait(300);
        socket.write(Buffer.alloc(total - total / 3, 0x61));
        await wait(300);
        socket.resume();
        await wait(500);
        socket.end();
      })();
    });
    assert.match(answer, /^HTTP\/1\.1 413 /, answer.slice(0, 200));
    assert.is(served.calls.length, 0);
  } finally {
    await served.close();
  }
});

limits('a streamed body (no Content-Length) is cut at the limit: 413 while the sender is still sending', async () => {
  const limit = 64 * 1024;
  const served = await serve({ maxBodyBytes: limit });
  try {
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const most = 64 * 1024 * 1024; // a sender that would go on for 64 MiB
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(served.base, { method: 'POST', headers: event() }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => (sent > limit ? undefined : reject(error)));
      const pump = () => {
        while (sent < most && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    assert.is(status, 413);
    assert.ok(sent < most / 4, `answered after ${sent} bytes of ${most}`);
    assert.is(served.calls.length, 0);
  } finally {
    await served.close();
  }
});

limits('a body that is not JSON: 400, and its content is in no log line or stderr', async () => {
  const served = await serve();
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((text: string | Uint8Array, ...rest: unknown[]) => {
    stderr.push(String(text));
    return (write as (...a: unknown[]) => boolean)(text, ...rest);
  }) as typeof process.stderr.write;
  try {
    const response = await fetch(served.base, { method: 'POST', headers: event(), body: '{"password": "hunter2-secret", oops' });
    assert.is(response.status, 400);
    assert.is(served.calls.length, 0);
    const everything = JSON.stringify(served.logs) + stderr.join('');
    assert.not.match(everything, /hunter2/);
    assert.is(served.logs[0]?.outcome, 'bad-json');
  } finally {
    process.stderr.write = write;
    await served.close();
  }
});

limits('the default limit holds the largest object the API server stores (1.5 MiB) with room for the envelope', () => {
  assert.ok(DEFAULT_MAX_BODY_BYTES >= 1.5 * 1024 * 1024 + 64 * 1024);
  assert.ok(DEFAULT_MAX_BODY_BYTES <= 4 * 1024 * 1024, 'far below the 256 Mi memory limit even at 10 in flight');
});

limits('installRequestGuard puts the guard in front of the server functions-framework creates', async () => {
  installRequestGuard({ maxBodyBytes: 100, log: () => undefined });
  const target = `installed-${++targets}`;
  let called = 0;
  ff.http(target, (_req, res) => {
    called++;
    res.status(204).end();
  });
  const server = getTestServer(target);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.is((await fetch(base, { method: 'POST', headers: event(), body: 'x'.repeat(200) })).status, 413);
    assert.is((await fetch(base, { method: 'POST', headers: event(), body: '{}' })).status, 204);
    assert.is(called, 1);
    // Other servers of the process are not touched.
    const plain = http.createServer((_req, res) => res.end('plain'));
    assert.is(plain.listeners('request').length, 1);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

limits.run();

// ---

const oidc = suite('OIDC verifier against the real API server');
let ns = '';
const allowed = new Set<string>();

async function token(sa: string, audience = AUDIENCE, duration = '10m'): Promise<string> {
  return (await kubectl.ok(['create', 'token', sa, '-n', ns, `--audience=${audience}`, `--duration=${duration}`])).trim();
}

const verifier = (options: { maxEntries?: number; now?: () => number } = {}) =>
  createEventVerifier({
    transport: async () => counted,
    audience: AUDIENCE,
    issuer: discoverIssuer(async () => counted),
    allowedSubjects: async () => allowed,
    ...options,
  });

async function refusal(v: EventVerifier, authorization: string | undefined): Promise<EventAuthError> {
  try {
    await v.verify(authorization);
  } catch (error) {
    if (error instanceof EventAuthError) return error;
    throw error;
  }
  throw new Error('accepted');
}

oidc.before(async () => {
  ns = await cluster.createNamespace('oidc');
  for (const sa of ['reconcile-children-oidc-eventing.knative.dev-trigger', 'intruder']) await kubectl.ok(['create', 'serviceaccount', sa, '-n', ns]);
  allowed.add(`system:serviceaccount:${ns}:reconcile-children-oidc-eventing.knative.dev-trigger`);
});

oidc('a Trigger identity\'s token for our audience is accepted, and the answer is cached', async () => {
  const v = verifier();
  const jwt = await token('reconcile-children-oidc-eventing.knative.dev-trigger');
  const sender = await v.verify(`Bearer ${jwt}`);
  assert.is(sender.subject, `system:serviceaccount:${ns}:reconcile-children-oidc-eventing.knative.dev-trigger`);
  assert.is(v.reviews, 1);
  await v.verify(`Bearer ${jwt}`);
  assert.is(v.reviews, 1, 'the second delivery with the same token sends no TokenReview');
});

oidc('no token, or not a bearer JWT: refused with no API request at all', async () => {
  const v = verifier();
  const before = apiRequests;
  assert.is((await refusal(v, undefined)).code, 'NoToken');
  assert.match((await refusal(v, undefined)).message, /authentication-oidc/);
  assert.is((await refusal(v, 'Basic dXNlcjpwYXNz')).code, 'MalformedToken');
  assert.is(apiRequests, before);
});

oidc('a token of another issuer is refused without a TokenReview', async () => {
  const v = verifier();
  await v.verify(`Bearer ${await token('reconcile-children-oidc-eventing.knative.dev-trigger')}`); // discovers the issuer
  const forged = [{ alg: 'none' }, { iss: 'https://evil.example', sub: `system:serviceaccount:${ns}:reconcile-children-oidc-eventing.knative.dev-trigger`, aud: [AUDIENCE] }]
    .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.') + '.';
  const before = apiRequests;
  assert.is((await refusal(v, `Bearer ${forged}`)).code, 'WrongIssuer');
  assert.is(apiRequests, before);
});

oidc('a token for another audience is refused by the TokenReview', async () => {
  const v = verifier();
  const error = await refusal(v, `Bearer ${await token('reconcile-children-oidc-eventing.knative.dev-trigger', 'https://kubernetes.default.svc')}`);
  assert.is(error.code, 'NotAuthenticated');
  assert.is(v.reviews, 1);
});

oidc('a valid token of a ServiceAccount the policy does not admit (a Pod of another namespace) is refused', async () => {
  const v = verifier();
  const jwt = await token('intruder');
  assert.is((await refusal(v, `Bearer ${jwt}`)).code, 'SubjectNotAllowed');
  assert.is((await refusal(v, `Bearer ${jwt}`)).code, 'SubjectNotAllowed');
  assert.is(v.reviews, 1, 'the refusal is cached too');
});

oidc('a deleted ServiceAccount\'s token stops passing once the cached answer ages out', async () => {
  let clock = Date.now();
  const v = createEventVerifier({ transport: async () => counted, audience: AUDIENCE, issuer: discoverIssuer(async () => counted), allowedSubjects: async () => allowed, maxAgeMs: 1_000, now: () => clock });
  await kubectl.ok(['create', 'serviceaccount', 'short-lived', '-n', ns]);
  allowed.add(`system:serviceaccount:${ns}:short-lived`);
  const jwt = await token('short-lived');
  await v.verify(`Bearer ${jwt}`);
  await kubectl.ok(['delete', 'serviceaccount', 'short-lived', '-n', ns]);
  await v.verify(`Bearer ${jwt}`); // still within the cached second
  // The API server itself caches a successful token authentication for 10 s; after that, the
  // next TokenReview (each one made after our own cached answer aged out) refuses.
  const code = await waitFor('the deleted ServiceAccount\'s token refused', async () => {
    clock += 1_500;
    return v.verify(`Bearer ${jwt}`).then(() => undefined, (error: EventAuthError) => error.code);
  }, { timeoutMs: 30_000, intervalMs: 1_000 });
  assert.is(code, 'NotAuthenticated');
  assert.ok(v.reviews >= 2);
});

oidc('the cache is bounded in entries', async () => {
  const v = verifier({ maxEntries: 1 });
  const a = await token('reconcile-children-oidc-eventing.knative.dev-trigger');
  const b = await token('intruder');
  await v.verify(`Bearer ${a}`);
  await refusal(v, `Bearer ${b}`); // evicts a
  await v.verify(`Bearer ${a}`);
  assert.is(v.reviews, 3);
});

oidc('behind the guard: 401 without a token and the handler is never called; 204 with one', async () => {
  const served = await serve({ verifier: verifier() });
  try {
    const before = apiRequests;
    const refused = await fetch(served.base, { method: 'POST', headers: event(), body: '{"op":"resync"}', signal: timeout() });
    assert.is(refused.status, 401);
    assert.match(await refused.text(), /NoToken: .*authentication-oidc/);
    assert.is(refused.headers.get('www-authenticate'), 'Bearer');
    assert.is(apiRequests, before);
    const jwt = await token('reconcile-children-oidc-eventing.knative.dev-trigger');
    const accepted = await fetch(served.base, { method: 'POST', headers: event({ authorization: `Bearer ${jwt}` }), body: '{"op":"resync"}', signal: timeout() });
    assert.is(accepted.status, 204);
    assert.is(served.calls.length, 1);
    assert.is((await fetch(`${served.base}/health/readiness`, { signal: timeout() })).status, 204, 'probes need no token');
  } finally {
    await served.close();
  }
});

oidc('the EventPolicy\'s status.from is the allowed list, cached, and re-read for a missing subject', async () => {
  await installEventPolicyCrd(kubectl);
  const policy = {
    apiVersion: 'eventing.knative.dev/v1alpha1', kind: 'EventPolicy', metadata: { name: 'streamer-operator', namespace: ns },
    spec: { from: [{ ref: { apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', name: 'reconcile-children', namespace: ns } }] },
  };
  await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(policy) });
  // Knative's EventPolicy controller writes status.from; here the test writes it as it would.
  const setFrom = (from: string[]) => kubectl.ok(['patch', 'eventpolicy', 'streamer-operator', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { from } })]);
  await setFrom(['system:serviceaccount:x:a']);
  let clock = Date.now();
  const subjects = eventPolicySubjects({ transport: async () => counted, namespace: ns, name: 'streamer-operator', now: () => clock });
  assert.equal([...(await subjects())], ['system:serviceaccount:x:a']);
  await setFrom(['system:serviceaccount:x:a', 'system:serviceaccount:x:b']);
  const before = apiRequests;
  assert.equal([...(await subjects())], ['system:serviceaccount:x:a'], 'cached');
  assert.equal([...(await subjects(true))], ['system:serviceaccount:x:a'], 'a fresh read within 2 s is the cached one');
  assert.is(apiRequests, before);
  clock += 2_500;
  assert.equal([...(await subjects(true))].sort(), ['system:serviceaccount:x:a', 'system:serviceaccount:x:b']);
  assert.is(apiRequests, before + 1);
});

oidc.after(async () => {
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
});

oidc.run();
