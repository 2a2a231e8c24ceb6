// lib/kube/client.ts against the real API server: lists come back whole across pages,
// a request the server throttles (API Priority and Fairness answering 429 with
// Retry-After) is sent again after the wait it names, and our applies are strict.
import { toHttpResponse } from '../../lib/events/http-response.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createKubeClient, retryAfterMs, send, type KubeObject, type KubeTransport } from '../../lib/kube/client.ts';
import { transportFromKubeconfig } from '../../lib/kube/config.ts';
import { KubeApiError } from '../../lib/kube/errors.ts';
import { isPermanent } from '../../lib/kube/permanent.ts';
import { useCluster } from '../cluster/shared.ts';
import { waitFor } from '../cluster/wait.ts';
import { HOLD_LABEL, startSlowWebhook, type SlowWebhook } from './slow-webhook.ts';

const cluster = await useCluster();
const admin = await transportFromKubeconfig(cluster.kubeconfig);
const namespace = await cluster.createNamespace('kube-client');
const configMap = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = { key: 'value' }): KubeObject => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data,
});

const paging = suite('list pages');

paging('a list longer than a page is read whole, a request per page, the selector on every page', async () => {
  const seed = createKubeClient({ transport: admin, fieldManager: 'client-test' });
  for (let i = 0; i < 23; i++) await seed.apply(configMap(`paged-${String(i).padStart(2, '0')}`, { paged: 'yes' }));
  for (let i = 0; i < 4; i++) await seed.apply(configMap(`other-${i}`, { paged: 'no' }));
  const kube = createKubeClient({ transport: admin, fieldManager: 'client-test', pageSize: 10 });
  const items = await kube.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes' });
  assert.equal(items.map((i) => i.metadata.name), Array.from({ length: 23 }, (_, i) => `paged-${String(i).padStart(2, '0')}`));
  assert.ok(items.every((i) => i.kind === 'ConfigMap' && i.apiVersion === 'v1'));
  assert.equal(kube.stats(), { reads: 3, writes: 0 });
  const exact = createKubeClient({ transport: admin, fieldManager: 'client-test', pageSize: 23 });
  assert.is((await exact.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes' })).length, 23);
  assert.equal(exact.stats(), { reads: 1, writes: 0 }, 'an exactly full page ends the list');
});

paging('an empty metadata-only list is an empty page (the API server sends "items": null)', async () => {
  const kube = createKubeClient({ transport: admin, fieldManager: 'client-test' });
  const page = await kube.listPage({ apiVersion: 'v1', kind: 'Pod', namespace, labelSelector: 'nothing=here', limit: 20, metadataOnly: true });
  assert.equal(page, { items: [] });
});

paging('a metadata-only page carries each object\'s metadata and no data, and pages on like a full one', async () => {
  const kube = createKubeClient({ transport: admin, fieldManager: 'client-test' });
  const first = await kube.listPage<KubeObject & { data?: unknown }>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes', limit: 20, metadataOnly: true });
  assert.is(first.items.length, 20);
  assert.ok(first.continue, 'a continue token for the rest');
  const rest = await kube.listPage({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes', limit: 20, metadataOnly: true, continue: first.continue! });
  assert.equal([...first.items, ...rest.items].map((i) => i.metadata.name), Array.from({ length: 23 }, (_, i) => `paged-${String(i).padStart(2, '0')}`));
  assert.is(rest.continue, undefined);
  for (const item of first.items) {
    assert.equal([item.apiVersion, item.kind, item.metadata.labels?.['paged']], ['v1', 'ConfigMap', 'yes']);
    assert.ok(item.metadata.uid && item.metadata.resourceVersion);
    assert.is(item.data, undefined, 'no data in a metadata-only list');
  }
  const full = await kube.listPage<KubeObject & { data?: unknown }>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes', limit: 1 });
  assert.equal(full.items[0]?.data, { key: 'value' }, 'the same list in full has it');
});

paging('streamPage hands over each item of a page with the listed kind and returns the next page\'s token; what `each` throws comes out as it is', async () => {
  const kube = createKubeClient({ transport: admin, fieldManager: 'client-test' });
  const names: string[] = [];
  const first = await kube.streamPage({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes', limit: 20 }, (item) => {
    assert.equal([item.apiVersion, item.kind], ['v1', 'ConfigMap']);
    names.push(item.metadata.name);
  });
  assert.is(first.count, 20);
  assert.ok(first.continue);
  const rest = await kube.streamPage({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes', limit: 20, continue: first.continue! }, (item) => names.push(item.metadata.name));
  assert.equal(rest, { count: 3 });
  assert.equal(names, Array.from({ length: 23 }, (_, i) => `paged-${String(i).padStart(2, '0')}`));
  const stop = new Error('enough');
  try {
    await kube.streamPage({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes', limit: 20 }, () => {
      throw stop;
    });
    assert.unreachable('the error of `each` ends the page');
  } catch (error) {
    assert.is(error, stop);
  }
  assert.is((await kube.listPage({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: 'paged=yes', limit: 5 })).items.length, 5, 'the client goes on');
});

const strict = suite('strict field validation on applies');

strict('a misspelled field in a created or patched object is refused with its name, not dropped', async () => {
  const kube = createKubeClient({ transport: admin, fieldManager: 'client-test' });
  const refused = async (write: () => Promise<unknown>, status: number, message: RegExp) => {
    try {
      await write();
      assert.unreachable('an unknown field must fail');
    } catch (error) {
      assert.instance(error, KubeApiError);
      assert.is((error as KubeApiError).statusCode, status, (error as Error).message);
      assert.match((error as Error).message, message);
    }
  };
  // Without fieldValidation=Strict the server answers 201 with a warning and drops the field.
  await refused(() => kube.create({ ...configMap('typo'), dta: { key: 'value' } }), 400, /strict decoding error: unknown field "dta"/);
  await kube.create(configMap('typo'));
  await refused(() => kube.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'typo' }, { dta: { key: 'other' } }), 422, /unknown field "dta"/);
  assert.equal((await kube.get<KubeObject & { data?: unknown }>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'typo' }))?.data, { key: 'value' }, 'nothing was written');
});

strict('a misspelled field in an applied object (a builder typo) is refused', async () => {
  const kube = createKubeClient({ transport: admin, fieldManager: 'client-test' });
  try {
    await kube.apply({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'typo', namespace },
      spec: {
        serviceName: 'typo', selector: { matchLabels: { app: 'typo' } },
        template: { metadata: { labels: { app: 'typo' } }, spec: { containers: [{ name: 'c', image: 'busybox', imagePullPolcy: 'Always' }] } },
      },
    });
    assert.unreachable('a nested unknown field must fail');
  } catch (error) {
    assert.instance(error, KubeApiError);
    assert.match((error as Error).message, /\.spec\.template\.spec\.containers.*imagePullPolcy: field not declared in schema/);
    // Not transient: reconcile-children reports it on ChildrenReady instead of redelivering it.
    assert.ok(isPermanent(error), 'a builder typo is a permanent refusal');
  }
  assert.is(await kube.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name: 'typo' }), null, 'nothing was written');
});

const throttling = suite('Retry-After on 429');

const THROTTLED_USER = `throttled-${namespace}`;
const LEVEL = `client-test-${namespace}`;

/** The admin transport, impersonating the throttled user (API Priority and Fairness classifies by the impersonated user). */
const throttledTransport: KubeTransport = {
  server: admin.server,
  get dispatcher() {
    return admin.dispatcher;
  },
  headers: async () => ({ ...(await admin.headers()), 'impersonate-user': THROTTLED_USER }),
};

/**
 * The throttled user's requests go to a priority level with no seats of its own that rejects
 * instead of queueing: a request there runs only while no other request of the level runs
 * (queueset.go canAccommodateSeatsLocked); any other gets 429 with Retry-After.
 */
async function throttleUser(): Promise<string> {
  const objects = [
    {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: LEVEL },
      spec: { type: 'Limited', limited: { nominalConcurrencyShares: 0, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: { type: 'Reject' } } },
    },
    {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name: LEVEL },
      spec: {
        priorityLevelConfiguration: { name: LEVEL }, matchingPrecedence: 500,
        rules: [{
          subjects: [{ kind: 'User', user: { name: THROTTLED_USER } }],
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] }],
        }],
      },
    },
  ];
  await cluster.kubectl.ok(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  const uid = (await cluster.kubectl.ok(['get', 'prioritylevelconfiguration', LEVEL, '-o', 'jsonpath={.metadata.uid}'])).trim();
  // The API server picks new flow schemas up from its informer: wait until requests land there.
  await waitFor('the throttled user classified into the empty priority level', async () => {
    const response = await send(throttledTransport, { method: 'GET', path: `/api/v1/namespaces/${namespace}/configmaps/paged-00` }, 10_000);
    return response.headers['x-kubernetes-pf-prioritylevel-uid'] === uid ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  return uid;
}

/** A ConfigMap create by the throttled user that the slow webhook holds: the level's one running request. */
async function holdTheLevel(webhook: SlowWebhook, name: string): Promise<{ done: Promise<unknown> }> {
  const before = webhook.calls;
  const held = createKubeClient({ transport: throttledTransport, fieldManager: 'client-test', retry: { maxRetries: 0, maxDelayMs: 0, defaultDelayMs: 0 } })
    .create(configMap(name, HOLD_LABEL));
  await waitFor('the webhook holding the create', async () => (webhook.calls > before ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });
  return { done: held }; // wrapped: an async function returning the promise itself would wait for it
}

let webhook: SlowWebhook;

throttling.before(async () => {
  await cluster.kubectl.ok(['create', 'role', 'configmaps', '-n', namespace, '--verb=get,list,create', '--resource=configmaps']);
  await cluster.kubectl.ok(['create', 'rolebinding', 'configmaps', '-n', namespace, '--role=configmaps', `--user=${THROTTLED_USER}`]);
  await throttleUser();
  webhook = await startSlowWebhook({ kubectl: cluster.kubectl, namespace, name: LEVEL, delayMs: 1_500 });
  // The webhook configuration reaches the API server through its informer too.
  await waitFor('the slow webhook registered', async () => {
    await createKubeClient({ transport: admin, fieldManager: 'client-test' }).create(configMap(`probe-${Date.now()}`, HOLD_LABEL));
    return webhook.calls > 0 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200 });
});

throttling.after(async () => {
  await webhook?.stop();
  await cluster.kubectl(['delete', 'flowschema,prioritylevelconfiguration', LEVEL, '--ignore-not-found']);
});

throttling('a throttled get waits Retry-After and succeeds once the level has room', async () => {
  const held = await holdTheLevel(webhook, 'held-1');
  const kube = createKubeClient({ transport: throttledTransport, fieldManager: 'client-test', retry: { maxRetries: 10, maxDelayMs: 10_000, defaultDelayMs: 1_000 } });
  const started = Date.now();
  const object = await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'paged-00' });
  const elapsed = Date.now() - started;
  await held.done;
  assert.is(object?.metadata.name, 'paged-00');
  const stats = kube.stats();
  assert.ok((stats.throttled ?? 0) >= 1, `throttled while the level was full: ${JSON.stringify(stats)}`);
  assert.is(stats.reads, (stats.throttled ?? 0) + 1, 'every throttled attempt was sent again, the last one answered');
  // The API server's Retry-After for priority and fairness rejections is 1 s or more.
  assert.ok(elapsed >= 1_000 * (stats.throttled ?? 0) - 50, `each retry waited Retry-After (${elapsed} ms for ${stats.throttled})`);
});

throttling('the server says how long to wait: Retry-After on the 429', async () => {
  const held = await holdTheLevel(webhook, 'held-2');
  const response = await send(throttledTransport, { method: 'GET', path: `/api/v1/namespaces/${namespace}/configmaps/paged-00` }, 10_000);
  await held.done;
  assert.is(response.statusCode, 429);
  const wait = retryAfterMs(response.headers['retry-after']);
  assert.ok(wait !== undefined && wait >= 1_000, `Retry-After: ${String(response.headers['retry-after'])}`);
});

throttling('a request throttled past the retry budget fails with the 429', async () => {
  const held = await holdTheLevel(webhook, 'held-3');
  const kube = createKubeClient({ transport: throttledTransport, fieldManager: 'client-test', retry: { maxRetries: 2, maxDelayMs: 100, defaultDelayMs: 100 } });
  try {
    await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'paged-00' });
    assert.unreachable('throttled throughout');
  } catch (error) {
    assert.instance(error, KubeApiError);
    assert.is((error as KubeApiError).statusCode, 429);
    // The server's delay travels with the error, and the function's 503 passes it on to the Broker.
    const seconds = (error as KubeApiError).retryAfterSeconds;
    assert.ok(seconds !== undefined && seconds >= 1, `retryAfterSeconds ${seconds}`);
    const answer = toHttpResponse({ kind: 'failed', error });
    assert.is(answer.status, 503);
    assert.is(answer.headers['retry-after'], String(Math.ceil(seconds!)));
  } finally {
    await held.done;
  }
  assert.equal(kube.stats(), { reads: 3, writes: 0, throttled: 3 }, 'the first try and two retries (waits capped at 100 ms)');
});

throttling('Retry-After values: seconds, an HTTP date, absent or garbage', () => {
  const now = Date.parse('2026-12-02T05:00:00Z');
  assert.is(retryAfterMs('3', now), 3000);
  assert.is(retryAfterMs(['1'], now), 1000);
  assert.is(retryAfterMs('Wed, 02 Dec 2026 05:00:02 GMT', now), 2000);
  assert.is(retryAfterMs('Wed, 02 Dec 2026 04:00:00 GMT', now), 0);
  assert.is(retryAfterMs(undefined, now), undefined);
  assert.is(retryAfterMs('soon', now), undefined);
});

paging.run();
strict.run();
throttling.run();
