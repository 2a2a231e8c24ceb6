import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildService } from '../../lib/k8s/service.ts';
import { buildStatefulSet } from '../../lib/k8s/stateful-set.ts';
import { everyField, everyFieldManifest, hostPathVolumeManifest, live, quickstart } from '../fixtures/streamers.ts';
import { plain, richChildMeta } from './plain.ts';

const url = 'http://rich-streamer-0.rich-headless.media.svc.cluster.local:81/streamer/api/v3';

const golden = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: richChildMeta('rich-streamer'),
  spec: {
    replicas: 1,
    serviceName: 'rich-headless',
    selector: { matchLabels: { app: 'rich-streamer' } },
    template: {
      metadata: {
        labels: { ...richChildMeta('').labels, app: 'rich-streamer' },
        annotations: {
          'streamer.flussonic.com/api-endpoint': url,
          'streamer.flussonic.com/private-payload': url,
        },
      },
      spec: {
        serviceAccountName: 'rich-sa',
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['stream-node'] }] }],
            },
          },
        },
        tolerations: [
          { operator: 'Exists', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
        ],
        containers: [
          {
            name: 'streamer',
            image: 'registry.example.com/flussonic/flussonic:v26.01-5',
            ports: [
              { name: 'payload', containerPort: 8080, hostPort: 8080, protocol: 'TCP' },
              { name: 'api', containerPort: 81, hostPort: 8081, protocol: 'TCP' },
            ],
            env: [
              { name: 'FLUSSONIC_HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'STREAMER_HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'FLUSSONIC_SECRETS_STORAGE', value: 'k8s://rich-license-storage' },
              { name: 'DO_NOT_DO_NET_TUNING', value: 'true' },
              { name: 'LICENSE_KEY', valueFrom: { secretKeyRef: { name: 'flussonic-license', key: 'license_key', optional: false } } },
              { name: 'FLUSSONIC_EDIT_AUTH', valueFrom: { secretKeyRef: { name: 'my-edit-auth-secret', key: 'edit_auth' } } },
              { name: 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH', valueFrom: { secretKeyRef: { name: 'rich-license-storage', key: 'config_external_auth', optional: false } } },
              { name: 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH_SOURCE', value: 'Secret config-auth-secret key auth_token' },
              { name: 'FLUSSONIC_CONFIG_EXTERNAL', value: 'http://$(STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH)@config-server/config' },
              { name: 'FLUSSONIC_CLUSTER_KEY', valueFrom: { secretKeyRef: { name: 'cluster-secret', key: 'cluster_key' } } },
              { name: 'MY_ENV_VAR', value: 'my-value' },
              { name: 'SECRET_VALUE', valueFrom: { secretKeyRef: { name: 'my-secret', key: 'secret-key' } } },
              { name: 'CENTRAL_NAME', value: 'streamer-$(FLUSSONIC_HOSTNAME)' },
            ],
            volumeMounts: [
              { name: 'streamer-operator-config', mountPath: '/etc/flussonic/flussonic.conf.d', readOnly: true },
              { name: 'storage', mountPath: '/storage' },
              { name: 'archive', mountPath: '/archive' },
            ],
            resources: { limits: { 'nvidia.com/gpu': '1' } },
            livenessProbe: {
              httpGet: { path: '/streamer/api/v3/monitoring/liveness', port: 81, scheme: 'HTTP' },
              initialDelaySeconds: 10,
              periodSeconds: 3,
            },
            readinessProbe: {
              httpGet: { path: '/streamer/api/v3/monitoring/readiness', port: 81, scheme: 'HTTP' },
              initialDelaySeconds: 2,
              periodSeconds: 2,
            },
            startupProbe: {
              httpGet: { path: '/streamer/api/v3/monitoring/readiness', port: 81, scheme: 'HTTP' },
              initialDelaySeconds: 2,
              periodSeconds: 2,
              failureThreshold: 30,
            },
          },
        ],
        volumes: [
          { name: 'streamer-operator-config', configMap: { name: 'rich-config' } },
          { name: 'storage', hostPath: { path: '/storage', type: 'DirectoryOrCreate' } },
          { name: 'archive', persistentVolumeClaim: { claimName: 'archive' } },
        ],
      },
    },
  },
};

const container = (streamer = quickstart) => {
  const found = buildStatefulSet(streamer).spec?.template.spec?.containers[0];
  if (!found) throw new Error('no container');
  return found;
};

// ---

const statefulSet = suite('buildStatefulSet');

statefulSet('builds the full StatefulSet of a Streamer using every field', () => {
  assert.equal(plain(buildStatefulSet(everyField)), golden);
});

statefulSet('runs exactly one replica', () => {
  assert.is(buildStatefulSet(quickstart).spec?.replicas, 1);
});

statefulSet('its selector matches the pod template labels', () => {
  for (const streamer of [quickstart, everyField]) {
    const spec = buildStatefulSet(streamer).spec;
    const labels = spec?.template.metadata?.labels ?? {};
    const selector = spec?.selector.matchLabels ?? {};
    assert.ok(Object.keys(selector).length > 0);
    for (const [key, value] of Object.entries(selector)) assert.is(labels[key], value, key);
  }
});

statefulSet('defaults the selector to name and instance, never spec.labels', () => {
  const streamer = live({ ...hostPathVolumeManifest, spec: { ...hostPathVolumeManifest.spec, labels: { team: 'a' } } });
  assert.equal(buildStatefulSet(streamer).spec?.selector.matchLabels, {
    'app.kubernetes.io/name': 'flussonic',
    'app.kubernetes.io/instance': 'simple',
  });
});

statefulSet('its serviceName is the headless Service, which selects the same Pods', () => {
  for (const streamer of [quickstart, everyField]) {
    const spec = buildStatefulSet(streamer).spec;
    const service = buildService(streamer);
    assert.is(spec?.serviceName, service.metadata?.name);
    assert.equal(service.spec?.selector, spec?.selector.matchLabels);
  }
});

statefulSet('pins the Pod to spec.nodeName by node-name affinity', () => {
  const terms = buildStatefulSet(quickstart).spec?.template.spec?.affinity?.nodeAffinity
    ?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  assert.equal(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['stream-node'] }] }]);
});

statefulSet('uses <image>:<version>, the default image when unset', () => {
  assert.is(container().image, 'flussonic/flussonic:v26.01-5');
});

statefulSet('payload on 80 and API on 81 without host ports by default', () => {
  const streamer = live(hostPathVolumeManifest);
  assert.equal(plain(container(streamer).ports), [
    { name: 'payload', containerPort: 80, protocol: 'TCP' },
    { name: 'api', containerPort: 81, protocol: 'TCP' },
  ]);
});

statefulSet('hostPort moves the container payload port too; adminHostPort maps 81', () => {
  assert.equal(plain(container(everyField).ports), [
    { name: 'payload', containerPort: 8080, hostPort: 8080, protocol: 'TCP' },
    { name: 'api', containerPort: 81, hostPort: 8081, protocol: 'TCP' },
  ]);
  assert.equal(plain(container(quickstart).ports?.[1]), { name: 'api', containerPort: 81, hostPort: 81, protocol: 'TCP' });
});

statefulSet('probes the API port with the spec\'s paths and timings', () => {
  const c = container();
  assert.equal([c.livenessProbe?.httpGet?.path, c.livenessProbe?.httpGet?.port, c.livenessProbe?.initialDelaySeconds, c.livenessProbe?.periodSeconds],
    ['/streamer/api/v3/monitoring/liveness', 81, 10, 3]);
  assert.equal([c.readinessProbe?.httpGet?.path, c.readinessProbe?.initialDelaySeconds, c.readinessProbe?.periodSeconds],
    ['/streamer/api/v3/monitoring/readiness', 2, 2]);
  assert.equal([c.startupProbe?.httpGet?.path, c.startupProbe?.initialDelaySeconds, c.startupProbe?.periodSeconds, c.startupProbe?.failureThreshold],
    ['/streamer/api/v3/monitoring/readiness', 2, 2, 30]);
});

statefulSet('mounts the config ConfigMap as the conf.d directory, without subPath', () => {
  const set = buildStatefulSet(quickstart);
  const mount = container().volumeMounts?.find((m) => m.mountPath === '/etc/flussonic/flussonic.conf.d');
  assert.ok(mount);
  assert.is(mount.subPath, undefined);
  const volume = set.spec?.template.spec?.volumes?.find((v) => v.name === mount.name);
  assert.is(volume?.configMap?.name, 'simple-config');
});

statefulSet('mounts spec.volumes at their mountPath with their own source', () => {
  const streamer = live(hostPathVolumeManifest);
  const set = buildStatefulSet(streamer);
  assert.equal(container(streamer).volumeMounts?.[1], { name: 'storage', mountPath: '/storage' });
  assert.equal(set.spec?.template.spec?.volumes?.[1], { name: 'storage', hostPath: { path: '/storage', type: 'DirectoryOrCreate' } });
});

statefulSet('requests nvidia.com/gpu only when nvidiaGpuCount > 0', () => {
  assert.is(container().resources, undefined);
  assert.equal(container(everyField).resources, { limits: { 'nvidia.com/gpu': '1' } });
  const zero = live({ ...everyFieldManifest, spec: { ...everyFieldManifest.spec, nvidiaGpuCount: 0 } });
  assert.is(container(zero).resources, undefined);
});

statefulSet('runs as the <name>-sa ServiceAccount', () => {
  assert.is(buildStatefulSet(quickstart).spec?.template.spec?.serviceAccountName, 'simple-sa');
});

statefulSet('keeps hot fields out of the pod template', () => {
  const text = JSON.stringify(buildStatefulSet(everyField).spec?.template);
  for (const hot of ['https://example.com/stream', 'video-team', '"team"', 'auth_backend', 'loglevel', 'public-payload']) {
    assert.not.ok(text.includes(hot), hot);
  }
});

statefulSet('never inlines a secret: every operator secret comes by secretKeyRef', () => {
  const env = container(everyField).env ?? [];
  for (const name of ['LICENSE_KEY', 'FLUSSONIC_EDIT_AUTH', 'STREAMER_OPERATOR_CONFIG_EXTERNAL_AUTH', 'FLUSSONIC_CLUSTER_KEY']) {
    const entry = env.find((e) => e.name === name);
    assert.ok(entry?.valueFrom?.secretKeyRef, name);
    assert.is(entry.value, undefined, name);
  }
});

statefulSet.run();
