import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventParseError } from '../../lib/events/errors.ts';
import { EventAction, EventMode, type ObjectEvent } from '../../lib/events/event-types.ts';
import { parseEvent } from '../../lib/events/parse-event.ts';
import {
  binaryEvent,
  childObject,
  pingEvent,
  refs,
  streamerObject,
  structuredEvent,
  withoutHeaders,
  type Message,
} from './fixtures.ts';

/** The ways one event can reach the handler: raw string, Buffer, or JSON express already parsed. */
const deliveries = {
  'binary, string body': (m: Message) => m,
  'binary, Buffer body': (m: Message) => ({ ...m, body: Buffer.from(String(m.body)) }),
  'binary, body parsed by express': (m: Message) => ({ ...m, body: JSON.parse(String(m.body)) }),
} as const;
const structuredDeliveries = {
  'structured, string body': (m: Message) => m,
  'structured, Buffer body': (m: Message) => ({ ...m, body: Buffer.from(String(m.body)) }),
  'structured, body parsed by express': (m: Message) => ({ ...m, body: JSON.parse(String(m.body)) }),
} as const;

function expectInvalid(message: Message, pattern: RegExp): EventParseError {
  try {
    parseEvent(message);
  } catch (error) {
    assert.instance(error, EventParseError);
    const parseError = error as EventParseError;
    assert.is(parseError.code, 'EVENT_INVALID');
    assert.match(parseError.message, pattern);
    return parseError;
  }
  assert.unreachable(`expected EventParseError matching ${pattern}`);
  throw new Error('unreachable');
}

// ---

const apiServer = suite('parseEvent: ApiServerSource events');

for (const mode of EventMode) {
  for (const action of EventAction) {
    const ref = refs.statefulSet;
    const object = childObject(ref, { name: 'cam1' }, { spec: { replicas: 1 }, status: { readyReplicas: 1 } });
    const id = `id-${mode}-${action}`;
    const cases = [
      ...Object.entries(deliveries).map(([how, deliver]) => [how, deliver(binaryEvent({ mode, action, ref, object, id }))] as const),
      ...Object.entries(structuredDeliveries).map(([how, deliver]) => [how, deliver(structuredEvent({ mode, action, ref, object, id }))] as const),
    ];
    for (const [how, message] of cases) {
      apiServer(`${mode} ${action}, ${how}`, () => {
        const event = parseEvent(message) as ObjectEvent;
        assert.is(event.kind, 'object');
        assert.is(event.mode, mode);
        assert.is(event.action, action);
        assert.is(event.id, id);
        assert.is(event.type, `dev.knative.apiserver.${mode === 'reference' ? 'ref' : 'resource'}.${action}`);
        assert.equal(event.ref, ref);
        if (mode === 'resource') assert.equal(event.object, object);
        else assert.is(event.object, undefined);
      });
    }
  }
}

apiServer('reads a Streamer event in Resource mode with its whole object', () => {
  const object = streamerObject();
  const event = parseEvent(binaryEvent({ mode: 'resource', action: 'update', ref: refs.streamer, object })) as ObjectEvent;
  assert.equal(event.ref, refs.streamer);
  assert.equal(event.object, object);
});

apiServer('matches header names case-insensitively', () => {
  const message = binaryEvent({ mode: 'reference', action: 'add', ref: refs.configMap });
  const upper = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()), v]));
  const event = parseEvent({ headers: upper, body: message.body }) as ObjectEvent;
  assert.equal(event.ref, refs.configMap);
});

apiServer('accepts a content type with parameters (application/json; charset=utf-8)', () => {
  const message = binaryEvent({ mode: 'resource', action: 'add', ref: refs.configMap, object: childObject(refs.configMap, { name: 'cam1' }) });
  message.headers['content-type'] = 'application/json; charset=UTF-8';
  const event = parseEvent(message) as ObjectEvent;
  assert.is((event.object as { kind: string }).kind, 'ConfigMap');
});

apiServer('a Reference-mode event needs no data', () => {
  const message = binaryEvent({ mode: 'reference', action: 'delete', ref: refs.pod });
  const event = parseEvent({ ...message, body: undefined }) as ObjectEvent;
  assert.equal(event.ref, refs.pod);
});

apiServer.run();

// ---

const ping = suite('parseEvent: PingSource and other types');

ping('a PingSource event is a resync tick', () => {
  assert.equal(parseEvent(pingEvent('tick-1')), { kind: 'resync', id: 'tick-1', type: 'dev.knative.sources.ping' });
});

ping('a PingSource event in structured mode is a resync tick too', () => {
  const body = { specversion: '1.0', id: 'tick-2', source: '/apis/v1/namespaces/s/pingsources/r', type: 'dev.knative.sources.ping', data: { op: 'resync' } };
  assert.equal(parseEvent({ headers: { 'content-type': 'application/cloudevents+json' }, body }), {
    kind: 'resync',
    id: 'tick-2',
    type: 'dev.knative.sources.ping',
  });
});

ping('an event of another source is ignored with a reason', () => {
  const message = pingEvent('x-1');
  message.headers['ce-type'] = 'dev.knative.kafka.event';
  assert.equal(parseEvent(message), {
    kind: 'ignored',
    reason: "event type 'dev.knative.kafka.event' is not handled",
    id: 'x-1',
    type: 'dev.knative.kafka.event',
  });
});

ping('an ApiServerSource-like type with an unknown action is ignored', () => {
  const message = binaryEvent({ mode: 'resource', action: 'add', ref: refs.configMap, object: {} });
  message.headers['ce-type'] = 'dev.knative.apiserver.resource.patch';
  assert.is(parseEvent(message).kind, 'ignored');
});

ping.run();

// ---

const malformed = suite('parseEvent: malformed events');
const resourceAdd = () => binaryEvent({ mode: 'resource', action: 'add', ref: refs.secret, object: childObject(refs.secret, { name: 'cam1' }) });

malformed('no ce-type header', () => {
  expectInvalid(withoutHeaders(resourceAdd(), 'ce-type'), /^event has no 'type' attribute$/);
});

malformed('no ce-source header', () => {
  expectInvalid(withoutHeaders(resourceAdd(), 'ce-source'), /no 'source' attribute/);
});

malformed('no ce-specversion header', () => {
  expectInvalid(withoutHeaders(resourceAdd(), 'ce-specversion'), /no 'specversion' attribute/);
});

malformed('specversion 0.3', () => {
  const message = resourceAdd();
  message.headers['ce-specversion'] = '0.3';
  expectInvalid(message, /specversion "0\.3" is not supported \(expected "1\.0"\)/);
});

malformed('no kind extension', () => {
  expectInvalid(withoutHeaders(resourceAdd(), 'ce-kind'), /^event has no 'kind' extension$/);
});

malformed('no apiversion and no name extension: both named', () => {
  const error = expectInvalid(withoutHeaders(resourceAdd(), 'ce-apiversion', 'ce-name'), /'apiversion' extension/);
  assert.match(error.message, /'name' extension/);
});

malformed('empty namespace extension', () => {
  const message = resourceAdd();
  message.headers['ce-namespace'] = '';
  expectInvalid(message, /'namespace' extension is empty/);
});

malformed('Resource mode with data that is not valid JSON; the data is not quoted', () => {
  const message = { ...resourceAdd(), body: '{"data":{"password":"c2VjcmV0LXZhbHVl"' };
  const error = expectInvalid(message, /^event data is not valid JSON \(content type 'application\/json'\)$/);
  assert.not.match(error.message, /c2VjcmV0/);
});

malformed('Resource mode with text data', () => {
  const message = { headers: { ...resourceAdd().headers, 'content-type': 'text/plain' }, body: 'hello' };
  expectInvalid(message, /resource-mode event data is not a JSON object \(content type 'text\/plain'\)/);
});

malformed('Resource mode with a JSON array as data', () => {
  expectInvalid({ ...resourceAdd(), body: '[1,2]' }, /resource-mode event data is not a JSON object/);
});

malformed('Resource mode without data', () => {
  expectInvalid({ ...resourceAdd(), body: '' }, /resource-mode event data is not a JSON object/);
});

malformed('Resource mode with an object without metadata (express makes {} of an empty JSON body)', () => {
  expectInvalid({ ...resourceAdd(), body: {} }, /^resource-mode event data has no metadata object$/);
});

malformed('a request with no ce-* headers that is not structured', () => {
  expectInvalid({ headers: { 'content-type': 'application/json' }, body: '{}' }, /not a CloudEvent/);
});

malformed('a structured body that is not JSON', () => {
  expectInvalid({ headers: { 'content-type': 'application/cloudevents+json' }, body: '{"id":' }, /structured event body is not valid JSON/);
});

malformed('a structured event without id', () => {
  const message = structuredEvent({ mode: 'reference', action: 'add', ref: refs.configMap });
  const body = JSON.parse(String(message.body));
  delete body.id;
  expectInvalid({ ...message, body }, /no 'id' attribute/);
});

malformed('a structured event with a non-string kind extension', () => {
  const message = structuredEvent({ mode: 'reference', action: 'add', ref: refs.configMap });
  const body = { ...JSON.parse(String(message.body)), kind: 7 };
  expectInvalid({ ...message, body }, /'kind' extension is not a string/);
});

malformed('a batch', () => {
  expectInvalid({ headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]' }, /batched CloudEvents are not supported/);
});

malformed('Resource mode in structured mode with data_base64 instead of JSON data', () => {
  const message = structuredEvent({ mode: 'resource', action: 'add', ref: refs.configMap, object: {} });
  const body = JSON.parse(String(message.body));
  delete body.data;
  body.data_base64 = Buffer.from('{"kind":"ConfigMap"}').toString('base64');
  expectInvalid({ ...message, body }, /resource-mode event data is not a JSON object/);
});

malformed.run();
