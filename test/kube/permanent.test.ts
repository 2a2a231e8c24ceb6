// Which Kubernetes failures are permanent (recorded and answered 2xx) and which are transient.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isTransient, TransientError } from '../../lib/events/errors.ts';
import { KubeApiError, KubeNetworkError } from '../../lib/kube/errors.ts';
import { isPermanent, PERMANENT_STATUSES, permanentCause } from '../../lib/kube/permanent.ts';

const api = (statusCode: number, message = 'x') => new KubeApiError({ method: 'PATCH', path: '/p', statusCode, reason: 'R', message });

const permanent = suite('isPermanent');

for (const status of [400, 403, 404, 409, 422]) {
  permanent(`${status} on an apply is permanent`, () => {
    assert.ok(isPermanent(api(status)));
  });
}

for (const status of [408, 429, 500, 502, 503, 504]) {
  permanent(`${status} is not permanent (retried)`, () => {
    assert.not.ok(isPermanent(api(status)));
  });
}

permanent('server-side apply\'s 500 for an object that cannot form a typed patch is permanent', () => {
  const duplicate = api(500, 'failed to create typed patch object (ns/x; apps/v1, Kind=StatefulSet): .spec.template.spec.containers[name="streamer"].env: duplicate entries for key [name="FLUSSONIC_HOSTNAME"]');
  assert.ok(isPermanent(duplicate));
  assert.is(duplicate.serverMessage.startsWith('failed to create typed patch object'), true);
});

permanent('an error carrying permanent === true is permanent, also as a cause', () => {
  const taken = Object.assign(new Error('ConfigMap simple-config is not ours'), { permanent: true as const });
  assert.ok(isPermanent(taken));
  const wrapped = new Error('reconcile failed', { cause: taken });
  assert.is(permanentCause(wrapped), taken);
});

permanent('network failures, transient errors and bugs are not permanent', () => {
  assert.not.ok(isPermanent(new KubeNetworkError('refused', { cause: new Error('ECONNREFUSED') })));
  assert.not.ok(isPermanent(new TransientError('later')));
  assert.not.ok(isPermanent(new TypeError('x is undefined')));
  assert.not.ok(isPermanent(undefined));
});

permanent('the list is the issue\'s: 400, 403, 404, 409, 422', () => {
  assert.equal(PERMANENT_STATUSES, [400, 403, 404, 409, 422]);
});

permanent('nothing is both permanent and transient except 409, which reconcile-children records before the handler sees it', () => {
  for (const status of [400, 403, 404, 422, 429, 500, 503]) assert.not.ok(isPermanent(api(status)) && isTransient(api(status)), String(status));
});

permanent.run();
