// makeEventHandler end to end: registered with functions-framework's ff.http, served by its
// real express server on 127.0.0.1, called with fetch like the Broker would.
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TransientError } from '../../lib/events/errors.ts';
import type { ObjectEvent, ResyncEvent } from '../../lib/events/event-types.ts';
import { makeEventHandler, type EventLogLine } from '../../lib/events/handler.ts';
import type { ObjectReader, StreamerTarget } from '../../lib/events/resolve-streamer.ts';
import { KubeApiError } from '../../lib/kube/errors.ts';
import { fakeReader } from './fake-reader.ts';
import { binaryEvent, childObject, pingEvent, refs, streamerObject, structuredEvent, withoutHeaders, type Message } from './fixtures.ts';

const cam1 = streamerObject('ns1', 'cam1');

/** What the function under test does; each test sets it. */
const scenario: {
  reader: ObjectReader;
  onObject: (target: StreamerTarget, event: ObjectEvent) => Promise<Record<string, unknown> | void>;
  onResync: (event: ResyncEvent) => Promise<void>;
} = { reader: fakeReader([]), onObject: async () => {}, onResync: async () => {} };

const calls: { objects: [StreamerTarget, ObjectEvent][]; resyncs: ResyncEvent[]; logs: EventLogLine[] } = {
  objects: [],
  resyncs: [],
  logs: [],
};

ff.http(
  'events-under-test',
  makeEventHandler({
    name: 'reconcile-children',
    reader: { get: (key) => scenario.reader.get(key) },
    onObject: async (target, event) => {
      calls.objects.push([target, event]);
      return scenario.onObject(target, event);
    },
    onResync: async (event) => {
      calls.resyncs.push(event);
      await scenario.onResync(event);
    },
    log: (line) => calls.logs.push(line),
  }),
);

let base = '';
const server = getTestServer('events-under-test');

async function post(message: Message): Promise<{ status: number; body: string; contentType: string | null }> {
  const body = typeof message.body === 'string' ? message.body : JSON.stringify(message.body);
  const response = await fetch(`${base}/`, { method: 'POST', headers: message.headers, body, signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') };
}

const handler = suite('makeEventHandler over functions-framework');

handler.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

handler.after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

handler.before.each(() => {
  scenario.reader = fakeReader([cam1]);
  scenario.onObject = async () => {};
  scenario.onResync = async () => {};
  calls.objects.length = 0;
  calls.resyncs.length = 0;
  calls.logs.length = 0;
});

handler('a Streamer event (binary, Resource mode) calls onObject and answers 204 with no body', async () => {
  const message = binaryEvent({ mode: 'resource', action: 'update', ref: refs.streamer, object: cam1, id: 'ev-1' });
  const answer = await post(message);
  assert.is(answer.status, 204);
  assert.is(answer.body, '');
  assert.is(calls.objects.length, 1);
  const [target, event] = calls.objects[0]!;
  assert.equal(target, { namespace: 'ns1', name: 'cam1', streamer: cam1 });
  assert.is(event.action, 'update');
  assert.equal(calls.logs, [
    {
      function: 'reconcile-children',
      eventId: 'ev-1',
      eventType: 'dev.knative.apiserver.resource.update',
      object: 'Streamer ns1/cam1',
      streamer: 'ns1/cam1',
      outcome: 'done',
      status: 204,
      durationMs: calls.logs[0]!.durationMs,
    },
  ]);
  assert.ok(calls.logs[0]!.durationMs >= 0);
});

handler('a child event in structured Reference mode maps through the current child', async () => {
  scenario.reader = fakeReader([cam1, childObject(refs.configMap, { name: 'cam1' })]);
  const answer = await post(structuredEvent({ mode: 'reference', action: 'update', ref: refs.configMap }));
  assert.is(answer.status, 204);
  assert.is(calls.objects[0]?.[0].name, 'cam1');
});

handler('what onObject returns goes into the log line as `result`', async () => {
  scenario.onObject = async () => ({ reads: 2, writes: 0 });
  assert.is((await post(binaryEvent({ mode: 'reference', action: 'update', ref: refs.streamer }))).status, 204);
  assert.equal(calls.logs[0]?.result, { reads: 2, writes: 0 });
});

handler('a PingSource tick calls onResync and answers 204', async () => {
  const answer = await post(pingEvent('tick-9'));
  assert.is(answer.status, 204);
  assert.equal(calls.resyncs, [{ kind: 'resync', id: 'tick-9', type: 'dev.knative.sources.ping' }]);
  assert.is(calls.logs[0]?.outcome, 'done');
});

handler('a malformed event answers 400 with the reason and calls nothing', async () => {
  const message = withoutHeaders(binaryEvent({ mode: 'resource', action: 'add', ref: refs.configMap, object: {} }), 'ce-kind');
  const answer = await post(message);
  assert.is(answer.status, 400);
  assert.match(answer.contentType ?? '', /application\/json/);
  assert.equal(JSON.parse(answer.body), { code: 'EVENT_INVALID', message: "event has no 'kind' extension" });
  assert.is(calls.objects.length, 0);
  assert.is(calls.logs[0]?.outcome, 'invalid');
});

handler('an unrelated object answers 204 without calling onObject', async () => {
  const object = childObject(refs.configMap, null);
  const answer = await post(binaryEvent({ mode: 'resource', action: 'add', ref: refs.configMap, object }));
  assert.is(answer.status, 204);
  assert.is(answer.body, '');
  assert.is(calls.objects.length, 0);
  assert.is(calls.logs[0]?.outcome, 'unrelated');
});

handler('an event of another type answers 204 and logs the reason', async () => {
  const message = pingEvent('other');
  message.headers['ce-type'] = 'com.example.unrelated';
  const answer = await post(message);
  assert.is(answer.status, 204);
  assert.is(calls.logs[0]?.outcome, 'ignored');
  assert.is(calls.logs[0]?.reason, "event type 'com.example.unrelated' is not handled");
});

handler('an API server that refuses connections answers 503 (the Broker retries)', async () => {
  scenario.reader = fakeReader([], Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }));
  const answer = await post(binaryEvent({ mode: 'reference', action: 'update', ref: refs.streamer }));
  assert.is(answer.status, 503);
  assert.is(calls.logs[0]?.outcome, 'transient');
  assert.is(calls.logs[0]?.error?.code, 'ECONNREFUSED');
});

handler('a conflict from onObject answers 503; a bug answers 500', async () => {
  scenario.onObject = async () => {
    throw new KubeApiError({ method: 'PATCH', path: '/apis/apps/v1/x', statusCode: 409, reason: 'Conflict', message: 'modified' });
  };
  assert.is((await post(binaryEvent({ mode: 'reference', action: 'update', ref: refs.streamer }))).status, 503);
  scenario.onObject = async () => {
    throw new TypeError('cannot read x of undefined');
  };
  const answer = await post(binaryEvent({ mode: 'reference', action: 'update', ref: refs.streamer }));
  assert.is(answer.status, 500);
  assert.equal(JSON.parse(answer.body), { code: 'TypeError', message: 'cannot read x of undefined' });
  assert.equal(calls.logs.map((l) => l.outcome), ['transient', 'error']);
});

handler('GET /health/liveness and /health/readiness answer 200; other GETs 404; PUT 405', async () => {
  for (const path of ['/health/liveness', '/health/readiness']) {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
    assert.is(response.status, 200, path);
    await response.text();
  }
  const other = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
  assert.is(other.status, 404);
  await other.text();
  const put = await fetch(`${base}/`, { method: 'PUT', body: '{}', signal: AbortSignal.timeout(5000) });
  assert.is(put.status, 405);
  await put.text();
  assert.is(calls.logs.length, 0);
});

handler('a Secret in Resource mode: its data never reaches a log line or a response', async () => {
  const password = 'Sup3r-Secr3t-Passw0rd';
  const encoded = Buffer.from(`admin:${password}`).toString('base64');
  const secret = childObject(refs.secret, { name: 'cam1' }, { type: 'Opaque', data: { edit_auth: encoded } });
  const ok = binaryEvent({ mode: 'resource', action: 'update', ref: refs.secret, object: secret });
  scenario.onObject = async () => {};
  assert.is((await post(ok)).status, 204);
  // Failing paths too: a rejected event and a failing callback.
  const noKind = withoutHeaders(ok, 'ce-kind');
  const rejected = await post(noKind);
  assert.is(rejected.status, 400);
  scenario.onObject = async () => {
    throw new TransientError('config push failed');
  };
  const failed = await post(ok);
  assert.is(failed.status, 503);
  const everything = JSON.stringify(calls.logs) + rejected.body + failed.body;
  assert.is(calls.logs.length, 3);
  assert.not.ok(everything.includes(encoded), 'base64 data leaked');
  assert.not.ok(everything.includes(password), 'decoded data leaked');
  assert.is(calls.logs[0]?.object, 'Secret ns1/cam1-license-storage');
});

handler.run();
