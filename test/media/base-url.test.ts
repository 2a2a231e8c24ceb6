// mediaBaseUrl: the media server's address from the Pod's IP and API port.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mediaBaseUrl } from '../../lib/media/base-url.ts';

const baseUrl = suite('mediaBaseUrl');

baseUrl('joins an IPv4 pod IP and the port', () => {
  assert.is(mediaBaseUrl({ podIP: '127.100.1.7', port: 81 }), 'http://127.100.1.7:81');
  assert.is(mediaBaseUrl({ podIP: '127.100.0.5', port: 8081 }), 'http://127.100.0.5:8081');
});

baseUrl('brackets an IPv6 pod IP', () => {
  assert.is(mediaBaseUrl({ podIP: 'fd00:10:244::7', port: 81 }), 'http://[fd00:10:244::7]:81');
  assert.is(mediaBaseUrl({ podIP: '::1', port: 81 }), 'http://[::1]:81');
});

baseUrl('refuses ports outside 1..65535 and an empty IP', () => {
  for (const port of [0, -1, 65536, 80.5, Number.NaN]) assert.throws(() => mediaBaseUrl({ podIP: '10.0.0.1', port }), (error: unknown) => error instanceof RangeError);
  assert.throws(() => mediaBaseUrl({ podIP: ' ', port: 81 }), (error: unknown) => error instanceof RangeError);
});

baseUrl.run();
