import { createServer } from 'node:net';
import { fetch } from 'undici';
import { ApiException } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeError } from '../../lib/events/describe-error.ts';
import { EventParseError, isTransient, TransientError } from '../../lib/events/errors.ts';
import { KubeApiError, KubeNetworkError } from '../../lib/kube/errors.ts';

const apiException = (code: number, body: unknown = { kind: 'Status', reason: 'X', message: 'm' }) =>
  new ApiException(code, 'Unsuccessful HTTP Request', body, { 'content-type': 'application/json' });
const kubeApiError = (statusCode: number) =>
  new KubeApiError({ method: 'GET', path: '/api/v1/namespaces/ns/configmaps/x', statusCode, reason: 'R', message: 'm' });

/** A real undici fetch failure (the fetch @kubernetes/client-node uses): a port that was just closed refuses the connection. */
async function refusedFetchError(): Promise<unknown> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await fetch(`http://127.0.0.1:${port}/`);
  } catch (error) {
    return error;
  }
  throw new Error('fetch to a closed port succeeded');
}

// ---

const transient = suite('isTransient');

transient('a TransientError', () => {
  assert.ok(isTransient(new TransientError('API server unavailable')));
});

for (const code of [408, 409, 429, 500, 502, 503, 504]) {
  transient(`client-node ApiException ${code} and KubeApiError ${code}`, () => {
    assert.ok(isTransient(apiException(code)));
    assert.ok(isTransient(kubeApiError(code)));
  });
}

for (const code of [400, 401, 403, 404, 422]) {
  transient(`not: ApiException ${code} and KubeApiError ${code}`, () => {
    assert.not.ok(isTransient(apiException(code)));
    assert.not.ok(isTransient(kubeApiError(code)));
  });
}

transient('network error codes, directly or as a cause', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']) {
    const error = Object.assign(new Error(`connect ${code}`), { code });
    assert.ok(isTransient(error), code);
    assert.ok(isTransient(new Error('wrapped', { cause: error })), `${code} as cause`);
  }
});

transient('a real undici "fetch failed" TypeError', async () => {
  const error = await refusedFetchError();
  assert.instance(error, TypeError);
  assert.ok(isTransient(error));
});

transient('KubeNetworkError and AbortSignal timeouts', async () => {
  assert.ok(isTransient(new KubeNetworkError('GET /api failed', { cause: new Error('x') })));
  const signal = AbortSignal.timeout(1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(isTransient(signal.reason));
});

transient('not: parse errors, programming errors, non-errors', () => {
  assert.not.ok(isTransient(new EventParseError("event has no 'kind' extension")));
  assert.not.ok(isTransient(new TypeError("Cannot read properties of undefined (reading 'x')")));
  assert.not.ok(isTransient('ECONNREFUSED'));
  assert.not.ok(isTransient(undefined));
  assert.not.ok(isTransient(Object.assign(new Error('no such file'), { code: 'ENOENT' })));
});

transient.run();

// ---

const describe = suite('describeError');

describe('an ApiException: status, reason and message, never the headers or the rest of the body', () => {
  const body = { kind: 'Status', reason: 'Conflict', message: 'the object has been modified', details: { data: 'c2VjcmV0' } };
  const exception = new ApiException(409, 'Unsuccessful HTTP Request', body, { authorization: 'Bearer t0ken' });
  assert.match(exception.message, /t0ken/); // why this exists: client-node's own message embeds everything
  const summary = describeError(exception);
  assert.equal(summary, { code: 'HTTP_409', message: 'Kubernetes API answered 409: Conflict: the object has been modified' });
});

describe('a JSON SyntaxError without the quoted input', () => {
  let error: unknown;
  try {
    JSON.parse('{"password":"c2VjcmV0"');
  } catch (caught) {
    error = caught;
  }
  assert.equal(describeError(error), { code: 'SyntaxError', message: 'invalid JSON' });
});

describe('typed errors keep their code; long messages are capped', () => {
  assert.equal(describeError(new TransientError('retry me')), { code: 'TRANSIENT', message: 'retry me' });
  assert.is(describeError(new Error('x'.repeat(1000))).message.length, 300);
  assert.equal(describeError('boom'), { code: 'NON_ERROR', message: 'non-error thrown: string' });
});

describe.run();
