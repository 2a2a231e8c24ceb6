import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventParseError, TransientError } from '../../lib/events/errors.ts';
import { outcomeLabel, toHttpResponse, type EventOutcome } from '../../lib/events/http-response.ts';
import { KubeApiError } from '../../lib/kube/errors.ts';

const conflict = new KubeApiError({ method: 'PATCH', path: '/apis/apps/v1/x', statusCode: 409, reason: 'Conflict', message: 'modified' });
const forbidden = new KubeApiError({ method: 'GET', path: '/api/v1/x', statusCode: 403, reason: 'Forbidden', message: 'no' });

const cases: { name: string; outcome: EventOutcome; status: number; label: string; code?: string }[] = [
  { name: 'success', outcome: { kind: 'done' }, status: 204, label: 'done' },
  { name: 'unrelated object', outcome: { kind: 'unrelated' }, status: 204, label: 'unrelated' },
  { name: 'ignored type', outcome: { kind: 'ignored', reason: 'x' }, status: 204, label: 'ignored' },
  { name: 'malformed event', outcome: { kind: 'failed', error: new EventParseError("event has no 'kind' extension") }, status: 400, label: 'invalid', code: 'EVENT_INVALID' },
  { name: 'TransientError', outcome: { kind: 'failed', error: new TransientError('later') }, status: 503, label: 'transient', code: 'TRANSIENT' },
  { name: 'API conflict', outcome: { kind: 'failed', error: conflict }, status: 503, label: 'transient', code: 'KUBE_API_ERROR' },
  { name: 'API forbidden', outcome: { kind: 'failed', error: forbidden }, status: 500, label: 'error', code: 'KUBE_API_ERROR' },
  { name: 'a bug', outcome: { kind: 'failed', error: new TypeError('x is undefined') }, status: 500, label: 'error', code: 'TypeError' },
];

const response = suite('toHttpResponse');

for (const c of cases) {
  response(`${c.name} → ${c.status}`, () => {
    const answer = toHttpResponse(c.outcome);
    assert.is(answer.status, c.status);
    assert.is(outcomeLabel(c.outcome), c.label);
    if (c.status === 204) {
      // The Broker treats a non-empty, non-CloudEvent 2xx body as a failure and redelivers.
      assert.is(answer.body, undefined);
      assert.equal(answer.headers, {});
    } else {
      assert.is(answer.headers['content-type'], 'application/json; charset=utf-8');
      assert.is(JSON.parse(answer.body ?? '').code, c.code);
    }
  });
}

response('the 400 body says what is wrong', () => {
  const answer = toHttpResponse({ kind: 'failed', error: new EventParseError("event has no 'kind' extension") });
  assert.equal(JSON.parse(answer.body ?? ''), { code: 'EVENT_INVALID', message: "event has no 'kind' extension" });
});

response('a transient error that asks for a delay is answered 503 with Retry-After (whole seconds)', () => {
  const throttled = Object.assign(new KubeApiError({ method: 'PATCH', path: '/x', statusCode: 429, reason: 'TooManyRequests', message: 'slow down' }), { retryAfterSeconds: 2.5 });
  const answer = toHttpResponse({ kind: 'failed', error: new TransientError('throttled', { cause: throttled }) });
  assert.is(answer.status, 503);
  assert.is(answer.headers['retry-after'], '3');
  assert.is(toHttpResponse({ kind: 'failed', error: new TransientError('later', { retryAfterSeconds: 7 }) }).headers['retry-after'], '7');
});

response('no Retry-After without a requested delay, nor on answers that are not retried as transient', () => {
  assert.is(toHttpResponse({ kind: 'failed', error: new TransientError('later') }).headers['retry-after'], undefined);
  const odd = Object.assign(new TypeError('x'), { retryAfterSeconds: 5 });
  assert.is(toHttpResponse({ kind: 'failed', error: odd }).headers['retry-after'], undefined);
});

response.run();
