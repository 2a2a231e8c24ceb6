// knative/ as kustomize renders it, checked against the rules and against lib/ (the
// labels the children really carry). No API server: test/knative/dry-run.test.ts has that.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildBinaries } from '../cluster/binaries.ts';
import { kubectlRunner } from '../cluster/kubectl.ts';
import { quickstart } from '../fixtures/streamers.ts';
import { MANAGED_BY_LABEL } from '../../lib/k8s/meta.ts';
import { buildConfigMap } from '../../lib/k8s/config-map.ts';
import { buildRoleBinding } from '../../lib/k8s/role-binding.ts';
import { buildRole } from '../../lib/k8s/role.ts';
import { buildLicenseStorageSecret } from '../../lib/k8s/secret.ts';
import { buildServiceAccount } from '../../lib/k8s/service-account.ts';
import { buildService } from '../../lib/k8s/service.ts';
import { buildStatefulSet } from '../../lib/k8s/stateful-set.ts';
import { startTriggerRouter } from './trigger-filter.ts';
import {
  byKind,
  knativeBaseDir,
  knativeDir,
  kustomize,
  named,
  OPERATOR_NAMESPACE,
  pingInterval,
  sourceSpec,
  type Manifest,
} from './manifests.ts';

const kubectl = kubectlRunner({ binDir: await buildBinaries(() => {}), kubeconfig: '/dev/null' });
const full = await kustomize(kubectl, knativeDir);
const base = await kustomize(kubectl, knativeBaseDir);

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] };
type Delivery = { retry?: number; backoffPolicy?: string; backoffDelay?: string; deadLetterSink?: { ref?: { kind: string; name: string }; uri?: string } };
type KsvcSpec = {
  template: {
    metadata: { annotations?: Record<string, string> };
    spec: {
      serviceAccountName?: string;
      containerConcurrency?: number;
      timeoutSeconds?: number;
      containers: { image: string; env?: { name: string; value?: string }[]; livenessProbe?: { httpGet?: { path: string } }; readinessProbe?: { httpGet?: { path: string } } }[];
    };
  };
};

const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
const ksvc = named(full, 'Service', 'streamer-operator');
const ksvcSpec = ksvc.spec as KsvcSpec;

// ---

const layout = suite('kustomizations');

layout('knative/ is knative/base/ plus exactly the streamer-operator Knative Service', () => {
  const extra = full.filter((m) => !base.some((b) => key(b) === key(m)));
  assert.equal(extra.map(key), [`Service/${OPERATOR_NAMESPACE}/streamer-operator`]);
  assert.is(ksvc.apiVersion, 'serving.knative.dev/v1');
  assert.is(full.length, base.length + 1);
});

layout('the Streamer CRD and its ValidatingAdmissionPolicy come from crds/', () => {
  assert.ok(named(base, 'CustomResourceDefinition', 'streamers.media.flussonic.com'));
  assert.ok(named(base, 'ValidatingAdmissionPolicy', 'streamer-version-pinned.media.flussonic.com'));
  assert.ok(named(base, 'ValidatingAdmissionPolicyBinding', 'streamer-version-pinned.media.flussonic.com'));
});

layout('every namespaced object is in the operator namespace, which the kustomization creates', () => {
  const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  for (const m of full) {
    if (clusterScoped.has(m.kind)) assert.is(m.metadata.namespace, undefined, key(m));
    else assert.is(m.metadata.namespace, OPERATOR_NAMESPACE, key(m));
  }
  assert.ok(named(base, 'Namespace', OPERATOR_NAMESPACE));
});

layout('the ksvc image is the one set in kustomization.yaml', () => {
  assert.match(ksvcSpec.template.spec.containers[0]!.image, /^registry\.example\.com\/flussonic\/streamer-operator:/);
});

layout.run();

// ---

const service = suite('Knative Service');

service('cluster-local: never exposed on the public ingress', () => {
  assert.is(ksvc.metadata.labels?.['networking.knative.dev/visibility'], 'cluster-local');
});

service('scales to zero, to a few instances at most, with bounded concurrency and timeout', () => {
  const annotations = ksvcSpec.template.metadata.annotations ?? {};
  assert.is(annotations['autoscaling.knative.dev/min-scale'], '0');
  const max = Number(annotations['autoscaling.knative.dev/max-scale']);
  assert.ok(max >= 1 && max <= 5, `max-scale ${max}`);
  const concurrency = ksvcSpec.template.spec.containerConcurrency ?? 0;
  assert.ok(concurrency >= 1 && concurrency <= 50, `containerConcurrency ${concurrency}`);
  const timeout = ksvcSpec.template.spec.timeoutSeconds ?? 300;
  assert.ok(timeout >= 10 && timeout <= 120, `timeoutSeconds ${timeout}`);
});

service('runs as streamer-operator, the target of all three functions, with func\'s probes', () => {
  assert.is(ksvcSpec.template.spec.serviceAccountName, 'streamer-operator');
  const container = ksvcSpec.template.spec.containers[0]!;
  assert.ok(container.env?.some((e) => e.name === 'FUNCTION_TARGET' && e.value === 'streamer-operator'));
  assert.is(container.livenessProbe?.httpGet?.path, '/health/liveness');
  assert.is(container.readinessProbe?.httpGet?.path, '/health/readiness');
});

service.run();

// ---

const delivery = suite('Broker and Triggers');

function assertDelivery(owner: string, value: Delivery | undefined) {
  assert.ok(value, `${owner} sets delivery`);
  assert.ok((value.retry ?? 0) >= 3, `${owner} retries`);
  assert.is(value.backoffPolicy, 'exponential', owner);
  assert.match(value.backoffDelay ?? '', /^PT\d+(\.\d+)?S$/, owner);
  assert.equal(value.deadLetterSink?.ref, { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'streamer-operator' }, owner);
  assert.is(value.deadLetterSink?.uri, '/dead-letter', owner);
}

delivery('the Broker retries with exponential backoff into the dead-letter route', () => {
  const [broker, ...more] = byKind(base, 'Broker');
  assert.is(more.length, 0);
  assertDelivery('Broker', (broker!.spec as { delivery?: Delivery }).delivery);
});

delivery('one Trigger per function, each with its own delivery (it replaces the Broker\'s)', () => {
  const triggers = byKind(base, 'Trigger');
  assert.equal(triggers.map((t) => t.metadata.name).sort(), ['probe-status', 'push-config', 'reconcile-children']);
  for (const trigger of triggers) {
    const spec = trigger.spec as { broker: string; subscriber: { ref: unknown; uri: string }; delivery?: Delivery };
    assert.is(spec.broker, 'streamer-operator');
    assert.equal(spec.subscriber.ref, { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'streamer-operator' });
    assert.is(spec.subscriber.uri, `/${trigger.metadata.name}`);
    assertDelivery(`Trigger ${trigger.metadata.name}`, spec.delivery);
  }
});

delivery('the Triggers are what Knative\'s webhook validation accepts, with no CESQL and no empty filter value', async () => {
  const triggers = byKind(base, 'Trigger');
  const router = await startTriggerRouter(triggers);
  try {
    assert.equal(await router.invalid(), {});
  } finally {
    router.stop();
  }
  // An empty exact/prefix/suffix value passes the webhook, but the broker then drops the whole
  // filter item (NewExactFilter fails and MaterializeFiltersList skips it): never what we mean.
  const suspicious: string[] = [];
  const walk = (filter: Record<string, unknown>, where: string) => {
    if ('cesql' in filter) suspicious.push(`${where}: cesql`);
    for (const dialect of ['exact', 'prefix', 'suffix']) {
      for (const [name, value] of Object.entries((filter[dialect] ?? {}) as Record<string, string>)) if (value === '') suspicious.push(`${where}: ${dialect}.${name} is empty`);
    }
    for (const nested of [...((filter.all ?? []) as Record<string, unknown>[]), ...((filter.any ?? []) as Record<string, unknown>[]), ...(filter.not ? [filter.not as Record<string, unknown>] : [])]) walk(nested, where);
  };
  for (const trigger of triggers) for (const filter of ((trigger.spec as { filters?: Record<string, unknown>[] }).filters ?? [])) walk(filter, trigger.metadata.name);
  assert.equal(suspicious, []);
});

delivery('the PingSource ticks every ten minutes (the Service scales to zero in between) into the Broker with {"op":"resync"}', () => {
  const [ping, ...more] = byKind(base, 'PingSource');
  assert.is(more.length, 0);
  const spec = ping!.spec as { schedule: string; contentType: string; data: string; sink: { ref: unknown } };
  assert.is(spec.schedule, '*/10 * * * *');
  assert.is(pingInterval(base as never)?.intervalMs, 600_000, 'pingInterval reads the same period');
  assert.is(spec.contentType, 'application/json');
  assert.equal(JSON.parse(spec.data), { op: 'resync' });
  assert.equal(spec.sink.ref, { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: 'streamer-operator' });
});

delivery.run();

// ---

const sources = suite('ApiServerSources');
const streamers = named(base, 'ApiServerSource', 'streamers');
const children = named(base, 'ApiServerSource', 'streamer-children');

sources('streamers: Resource mode, every namespace, no owner filter', () => {
  const spec = sourceSpec(streamers);
  assert.is(spec.mode, 'Resource');
  assert.equal(spec.namespaceSelector, {});
  assert.is(spec.owner, undefined);
  assert.equal(spec.resources, [{ apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer' }]);
  assert.is(spec.serviceAccountName, 'streamers-source');
});

sources('streamer-children: Reference mode (no Secret data on the bus), every namespace, no owner filter', () => {
  const spec = sourceSpec(children);
  assert.is(spec.mode, 'Reference');
  assert.equal(spec.namespaceSelector, {});
  assert.is(spec.owner, undefined);
  assert.is(spec.serviceAccountName, 'streamer-children-source');
  for (const resource of spec.resources) {
    assert.equal(resource.selector, { matchLabels: { [MANAGED_BY_LABEL.key]: MANAGED_BY_LABEL.value } }, resource.kind);
  }
});

sources('streamer-children watches every kind the operator creates, and the Pod, by labels those objects really carry', () => {
  const built = [
    buildStatefulSet(quickstart),
    buildService(quickstart),
    buildConfigMap(quickstart),
    buildLicenseStorageSecret(quickstart),
    buildServiceAccount(quickstart),
    buildRole(quickstart),
    buildRoleBinding(quickstart),
  ] as unknown as { apiVersion: string; kind: string; metadata: { labels?: Record<string, string> } }[];
  const watched = sourceSpec(children).resources.map((r) => `${r.apiVersion} ${r.kind}`);
  for (const child of built) {
    assert.ok(watched.includes(`${child.apiVersion} ${child.kind}`), `${child.kind} is watched`);
    assert.is(child.metadata.labels?.[MANAGED_BY_LABEL.key], MANAGED_BY_LABEL.value, `${child.kind} carries the label`);
  }
  const podLabels = (built[0] as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
  assert.is(podLabels[MANAGED_BY_LABEL.key], MANAGED_BY_LABEL.value, 'the Pod template carries the label');
  assert.ok(watched.includes('v1 Pod'));
  assert.is(watched.length, built.length + 1);
});

sources('both sources sink to the Broker', () => {
  for (const source of [streamers, children]) {
    assert.equal(sourceSpec(source).sink?.ref, { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: 'streamer-operator' });
  }
});

sources('no object of the install is itself selected by the children source', () => {
  const watchedKinds = new Set(sourceSpec(children).resources.map((r) => r.kind));
  for (const m of full.filter((m) => watchedKinds.has(m.kind))) {
    assert.is.not(m.metadata.labels?.[MANAGED_BY_LABEL.key], MANAGED_BY_LABEL.value, key(m));
  }
});

sources.run();

// ---

const rbac = suite('RBAC');
const rules = (m: Manifest) => (m.rules as Rule[] | undefined) ?? [];
const roles = [...byKind(full, 'ClusterRole'), ...byKind(full, 'Role')];
const bindings = [...byKind(full, 'ClusterRoleBinding'), ...byKind(full, 'RoleBinding')];

// delete only where Kubernetes leaves no other way (recreating a child whose immutable fields
// must change, unsticking a rollout), and only for the functions: never on Secrets.
const DELETABLE = new Set(['statefulsets', 'services', 'rolebindings', 'pods']);

rbac('no wildcards, no escalate/bind/impersonate/deletecollection, delete only on recreatable kinds, no non-resource URLs', () => {
  for (const role of roles) {
    for (const rule of rules(role)) {
      for (const value of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs]) assert.is.not(value, '*', key(role));
      for (const verb of ['escalate', 'bind', 'impersonate', 'deletecollection']) {
        assert.not.ok(rule.verbs.includes(verb), `${key(role)} grants ${verb}`);
      }
      if (rule.verbs.includes('delete')) {
        assert.is(role.metadata.name, 'streamer-operator', `${key(role)} grants delete`);
        for (const resource of rule.resources ?? []) assert.ok(DELETABLE.has(resource), `${key(role)} grants delete on ${resource}`);
      }
      assert.is(rule.nonResourceURLs, undefined, key(role));
    }
  }
});

rbac('bindings name only roles of this install (never cluster-admin, edit, admin) and its own ServiceAccounts', () => {
  const accounts = byKind(full, 'ServiceAccount').map((sa) => sa.metadata.name);
  for (const binding of bindings) {
    const roleRef = binding.roleRef as { kind: string; name: string };
    assert.ok(roles.some((r) => r.kind === roleRef.kind && r.metadata.name === roleRef.name), `${key(binding)} → ${roleRef.kind} ${roleRef.name}`);
    for (const subject of binding.subjects as { kind: string; name: string; namespace: string }[]) {
      assert.is(subject.kind, 'ServiceAccount');
      assert.is(subject.namespace, OPERATOR_NAMESPACE);
      assert.ok(accounts.includes(subject.name), subject.name);
    }
  }
});

rbac('nothing writes RBAC cluster-wide: roles and rolebindings only, no clusterroles', () => {
  for (const role of roles) {
    for (const rule of rules(role)) {
      const writes = rule.verbs.some((v) => !['get', 'list', 'watch'].includes(v));
      if (writes) assert.not.ok(rule.resources?.some((r) => r.startsWith('cluster')), key(role));
    }
  }
});

rbac('every ServiceAccount a source or the ksvc runs as exists and is bound', () => {
  const used = [
    sourceSpec(streamers).serviceAccountName,
    sourceSpec(children).serviceAccountName,
    ksvcSpec.template.spec.serviceAccountName,
  ];
  for (const name of used) {
    assert.ok(named(full, 'ServiceAccount', name!));
    assert.ok(bindings.some((b) => (b.subjects as { name: string }[]).some((s) => s.name === name)), `${name} is bound`);
  }
});

rbac.run();
