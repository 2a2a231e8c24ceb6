// classifySaveResult: the StreamerConfigSaved condition for each outcome of a save.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createMediaClient } from '../../lib/media/client.ts';
import {
  MediaServerNetworkError,
  MediaServerResponseError,
  MediaServerSchemaError,
  MediaServerTimeoutError,
  type RequestSite,
} from '../../lib/media/errors.ts';
import { classifySaveResult, type SaveResult } from '../../lib/media/save-result.ts';
import { startMediaDouble, type MediaDoubleFault } from '../media-double/index.ts';

const site: RequestSite = { method: 'PUT', path: '/streamer/api/v3/config', attempts: 1 };
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:81'), { code: 'ECONNREFUSED' });

const cases: { name: string; error: unknown; status: SaveResult['status']; reason: SaveResult['reason']; message?: RegExp }[] = [
  { name: 'resolved (HTTP 200)', error: undefined, status: 'True', reason: 'ConfigSaved', message: /200/ },
  { name: '403', error: new MediaServerResponseError(site, 403, 'authorization_failed'), status: 'False', reason: 'Forbidden', message: /403/ },
  { name: '401', error: new MediaServerResponseError(site, 401), status: 'False', reason: 'Unauthorized', message: /401/ },
  {
    name: '400 with a location',
    error: new MediaServerResponseError(site, 400, 'bad_url', { error: 'bad_url', line: 3, col: 17 }),
    status: 'False',
    reason: 'ConfigInvalid',
    message: /bad_url at line 3, column 17/,
  },
  { name: '400 without a location', error: new MediaServerResponseError(site, 400), status: 'False', reason: 'ConfigInvalid', message: /HTTP 400/ },
  { name: '500', error: new MediaServerResponseError(site, 500, 'crashed'), status: 'Unknown', reason: 'ServerError', message: /HTTP 500/ },
  { name: '503', error: new MediaServerResponseError(site, 503), status: 'Unknown', reason: 'ServerError', message: /HTTP 503/ },
  { name: '404', error: new MediaServerResponseError(site, 404), status: 'Unknown', reason: 'UnexpectedStatus', message: /HTTP 404/ },
  { name: 'timeout', error: new MediaServerTimeoutError(site, 3000), status: 'Unknown', reason: 'Timeout', message: /3000 ms/ },
  { name: 'network error', error: new MediaServerNetworkError(site, refused), status: 'Unknown', reason: 'Unreachable', message: /ECONNREFUSED/ },
  { name: 'unreadable 200', error: new MediaServerSchemaError(site, 200, [{ path: [], message: 'body is not JSON' }]), status: 'Unknown', reason: 'InvalidResponse' },
  { name: 'anything else', error: new TypeError('boom secret'), status: 'Unknown', reason: 'SaveFailed' },
];

// ---

const table = suite('classifySaveResult');

for (const { name, error, status, reason, message } of cases) {
  table(`${name} -> ${status}/${reason}`, () => {
    const result = classifySaveResult(error);
    assert.is(result.status, status);
    assert.is(result.reason, reason);
    if (message !== undefined) assert.match(result.message, message);
    assert.not.match(result.message, /secret/);
  });
}

table('reasons are valid Kubernetes condition reasons', () => {
  for (const { error } of cases) assert.match(classifySaveResult(error).reason, /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
});

table.run();

// ---

const live = suite('classifySaveResult on real saves against the double');

live('each outcome of saveConfig maps to the condition the spec asks for', async () => {
  const double = await startMediaDouble({ editAuth: 'root:pw' });
  const outcomes: { fault: MediaDoubleFault | null; auth?: string; text?: string; expect: [SaveResult['status'], SaveResult['reason']] }[] = [
    { fault: null, expect: ['True', 'ConfigSaved'] },
    { fault: null, auth: 'root:other', expect: ['False', 'Forbidden'] },
    { fault: null, text: 'http 81;\nstream a {\n', expect: ['False', 'ConfigInvalid'] },
    { fault: { kind: 'status', status: 500 }, expect: ['Unknown', 'ServerError'] },
    { fault: { kind: 'reset' }, expect: ['Unknown', 'Unreachable'] },
    { fault: { kind: 'slow', ms: 2000 }, expect: ['Unknown', 'Timeout'] },
  ];
  try {
    for (const { fault, auth, text, expect } of outcomes) {
      double.setFault(fault);
      const client = createMediaClient({ baseUrl: double.url, auth: auth ?? 'root:pw', timeoutMs: 150, retries: 1, retryDelayMs: 10 });
      const result = await client.saveConfig(text ?? 'http 81;\n').then(() => classifySaveResult(), (error: unknown) => classifySaveResult(error));
      assert.equal([result.status, result.reason], expect, JSON.stringify(result));
      if (expect[1] === 'ConfigInvalid') assert.match(result.message, 'unclosed_block at line 2, column 10');
    }
  } finally {
    await double.stop();
  }
});

live.run();
