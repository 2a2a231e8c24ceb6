// The `<name>-streamer` StatefulSet: exactly one media server Pod, pinned to `spec.nodeName`
// (tolerating that node's NoSchedule taints, see NODE_TOLERATIONS).
//
// The pod template holds only restart fields. Hot fields (configExtra, logLevel, publicUrl,
// spec.labels, spec.annotations) must not appear in it, not even as a hash, or changing them
// would roll the Pod; see pod-metadata.ts and spec-changes.ts.
import type { V1Affinity, V1Container, V1Probe, V1StatefulSet, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Streamer } from '../schema/streamer.ts';
import { API_BASE_PATH } from './endpoints.ts';
import { buildEnv } from './env.ts';
import { configVolumeName } from './config-volume.ts';
import { CONFIG_DIR } from './media-server-config.ts';
import { childMetadata, childNames, podTemplateLabels, selectorLabels } from './meta.ts';
import { endpointAnnotations } from './pod-metadata.ts';
import { API_PORT, PORT_NAMES, payloadPort } from './ports.ts';

export const CONTAINER_NAME = 'streamer';
export const NVIDIA_GPU_RESOURCE = 'nvidia.com/gpu';

export const PROBE_PATHS = {
  liveness: `${API_BASE_PATH}/monitoring/liveness`,
  readiness: `${API_BASE_PATH}/monitoring/readiness`,
} as const;

export function buildStatefulSet(streamer: Streamer): V1StatefulSet {
  const names = childNames(streamer);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMetadata(streamer, names.statefulSet),
    spec: {
      // The spec: "The operator supports exactly one Pod per Streamer instance."
      replicas: 1,
      serviceName: names.headlessService,
      selector: { matchLabels: selectorLabels(streamer) },
      template: {
        metadata: { labels: podTemplateLabels(streamer), annotations: endpointAnnotations(streamer) },
        spec: {
          serviceAccountName: names.serviceAccount,
          affinity: pinToNode(streamer.spec.nodeName),
          tolerations: NODE_TOLERATIONS,
          containers: [container(streamer)],
          volumes: volumes(streamer),
        },
      },
    },
  };
}

/**
 * Pins the Pod to the node by a required node affinity on the Node's `metadata.name` field,
 * the way the DaemonSet controller does, rather than setting `spec.nodeName`:
 * - the scheduler still checks the node (resources, GPUs, free host ports), so a Pod
 *   that cannot run there stays Pending with a reason instead of failing on the kubelet;
 * - a Pod bound by nodeName to a node that does not exist is deleted by the Pod GC and
 *   recreated by the StatefulSet in a loop; with affinity it waits, Pending, for the node;
 * - unlike a `kubernetes.io/hostname` selector, the node name is exact (that label may differ
 *   from the Node name on some clouds).
 */
function pinToNode(nodeName: string): V1Affinity {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
      },
    },
  };
}

/**
 * Taints of the named node, handled the way the DaemonSet controller places its Pods there:
 * - every NoSchedule taint is tolerated (a dedicated media node tainted `dedicated=media:
 *   NoSchedule`, a cordoned node's `node.kubernetes.io/unschedulable`, memory or disk pressure).
 *   Naming the node in `spec.nodeName` is the explicit placement; a taint can only keep the Pod
 *   Pending forever, never move it elsewhere;
 * - `not-ready` and `unreachable` NoExecute are tolerated without a time limit: an eviction
 *   could only recreate the Pod, Pending, on the same node;
 * - any other NoExecute taint still evicts (someone draining the node on purpose), and
 *   PreferNoSchedule is only a preference.
 */
export const NODE_TOLERATIONS: V1Toleration[] = [
  { operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
];

function container(streamer: Streamer): V1Container {
  const { spec } = streamer;
  const gpus = spec.nvidiaGpuCount ?? 0;
  return {
    name: CONTAINER_NAME,
    image: `${spec.image}:${spec.version}`,
    ports: [
      { name: PORT_NAMES.payload, containerPort: payloadPort(spec), hostPort: spec.hostPort, protocol: 'TCP' },
      { name: PORT_NAMES.api, containerPort: API_PORT, hostPort: spec.adminHostPort, protocol: 'TCP' },
    ],
    env: buildEnv(streamer),
    volumeMounts: volumeMounts(streamer),
    resources: gpus > 0 ? { limits: { [NVIDIA_GPU_RESOURCE]: String(gpus) } } : undefined,
    // Timings from the spec's "Health Checks"; the probes need no credentials.
    livenessProbe: probe(PROBE_PATHS.liveness, { initialDelaySeconds: 10, periodSeconds: 3 }),
    readinessProbe: probe(PROBE_PATHS.readiness, { initialDelaySeconds: 2, periodSeconds: 2 }),
    startupProbe: probe(PROBE_PATHS.readiness, { initialDelaySeconds: 2, periodSeconds: 2, failureThreshold: 30 }),
  };
}

function probe(path: string, timing: Pick<V1Probe, 'initialDelaySeconds' | 'periodSeconds' | 'failureThreshold'>): V1Probe {
  return { httpGet: { path, port: API_PORT, scheme: 'HTTP' }, ...timing };
}

/**
 * The config ConfigMap mounted as the whole conf.d directory. No subPath: kubelet only updates
 * ConfigMap files in place for directory mounts, so the running server's file stays current.
 */
function volumeMounts(streamer: Streamer): V1VolumeMount[] {
  return [
    { name: configVolumeName(streamer), mountPath: CONFIG_DIR, readOnly: true },
    ...(streamer.spec.volumes ?? []).map(({ name, mountPath }) => ({ name, mountPath })),
  ];
}

function volumes(streamer: Streamer): V1Volume[] {
  return [
    { name: configVolumeName(streamer), configMap: { name: childNames(streamer).configMap } },
    // The API server validated each source against the core/v1 schemas embedded in the CRD,
    // so `name` plus the source is a V1Volume.
    ...(streamer.spec.volumes ?? []).map(({ mountPath: _mountPath, ...volume }) => volume as V1Volume),
  ];
}
