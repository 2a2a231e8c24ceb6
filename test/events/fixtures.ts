// Real-shaped CloudEvents as the ApiServerSource adapter and PingSource send them
// (knative.md §1.1, §1.2, §4), in binary and structured content mode.
import { randomUUID } from 'node:crypto';
import { apiServerEventType, type EventAction, type EventMode, type ObjectRef } from '../../lib/events/event-types.ts';

export type Message = { headers: Record<string, string>; body: unknown };

/** The adapter's `source`: the API server URL its client uses. */
export const SOURCE = 'https://127.0.0.1:6443';

export function streamerObject(namespace = 'ns1', name = 'cam1'): Record<string, unknown> {
  return {
    apiVersion: 'media.flussonic.com/v1alpha1',
    kind: 'Streamer',
    metadata: {
      name,
      namespace,
      uid: '6f1c7e9a-0000-4000-8000-000000000001',
      resourceVersion: '1234',
      generation: 3,
      managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'media.flussonic.com/v1alpha1' }],
    },
    spec: { image: 'flussonic/flussonic:25.01' },
    status: { observedGeneration: 2 },
  };
}

/** A child with a controller owner reference to Streamer `owner` (or none when owner is null). */
export function childObject(
  ref: ObjectRef,
  owner: { apiVersion?: string; kind?: string; name: string; controller?: boolean } | null,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const ownerReferences = owner
    ? [{
        apiVersion: owner.apiVersion ?? 'media.flussonic.com/v1alpha1',
        kind: owner.kind ?? 'Streamer',
        name: owner.name,
        uid: '6f1c7e9a-0000-4000-8000-000000000001',
        controller: owner.controller ?? true,
        blockOwnerDeletion: true,
      }]
    : undefined;
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, namespace: ref.namespace, uid: randomUUID(), resourceVersion: '77', ownerReferences },
    ...extra,
  };
}

export function subjectOf(ref: ObjectRef): string {
  const plural = `${ref.kind.toLowerCase()}s`;
  return `/apis/${ref.apiVersion}/namespaces/${ref.namespace}/${plural}/${ref.name}`;
}

type ApiServerEvent = { mode: EventMode; action: EventAction; ref: ObjectRef; object?: unknown; id?: string };

/** The data the adapter sends: the object (Resource) or an ObjectReference (Reference). */
function dataOf({ mode, ref, object }: ApiServerEvent): unknown {
  if (mode === 'resource') return object;
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, namespace: ref.namespace };
}

/** Binary content mode: attributes in ce-* headers, the JSON data as the body string. */
export function binaryEvent(event: ApiServerEvent): Message {
  return {
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': event.id ?? randomUUID(),
      'ce-source': SOURCE,
      'ce-type': apiServerEventType(event.mode, event.action),
      'ce-subject': subjectOf(event.ref),
      'ce-time': '2026-06-11T10:00:00.123Z',
      'ce-apiversion': event.ref.apiVersion,
      'ce-kind': event.ref.kind,
      'ce-name': event.ref.name,
      'ce-namespace': event.ref.namespace,
      'ce-knativearrivaltime': '2026-06-11T10:00:00.200Z',
      'kn-namespace': event.ref.namespace,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
    body: JSON.stringify(dataOf(event)),
  };
}

/** Structured content mode: the whole event as one application/cloudevents+json document. */
export function structuredEvent(event: ApiServerEvent): Message {
  return {
    headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    body: JSON.stringify({
      specversion: '1.0',
      id: event.id ?? randomUUID(),
      source: SOURCE,
      type: apiServerEventType(event.mode, event.action),
      subject: subjectOf(event.ref),
      time: '2026-06-11T10:00:00.123Z',
      datacontenttype: 'application/json',
      apiversion: event.ref.apiVersion,
      kind: event.ref.kind,
      name: event.ref.name,
      namespace: event.ref.namespace,
      data: dataOf(event),
    }),
  };
}

/** A PingSource tick in binary mode with `data: {"op":"resync"}`. */
export function pingEvent(id: string = randomUUID()): Message {
  return {
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-source': '/apis/v1/namespaces/streaming/pingsources/resync',
      'ce-type': 'dev.knative.sources.ping',
      'ce-time': '2026-06-11T10:05:00Z',
    },
    body: '{"op":"resync"}',
  };
}

/** A copy of `message` without the named headers. */
export function withoutHeaders(message: Message, ...names: string[]): Message {
  const headers = { ...message.headers };
  for (const name of names) delete headers[name];
  return { headers, body: message.body };
}

export const refs = {
  streamer: { apiVersion: 'media.flussonic.com/v1alpha1', kind: 'Streamer', namespace: 'ns1', name: 'cam1' },
  statefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'ns1', name: 'cam1-streamer' },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns1', name: 'cam1-config' },
  secret: { apiVersion: 'v1', kind: 'Secret', namespace: 'ns1', name: 'cam1-license-storage' },
  service: { apiVersion: 'v1', kind: 'Service', namespace: 'ns1', name: 'cam1-headless' },
  serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'ns1', name: 'cam1-sa' },
  role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', namespace: 'ns1', name: 'cam1-role' },
  roleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespace: 'ns1', name: 'cam1-rb' },
  pod: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns1', name: 'cam1-streamer-0' },
} as const satisfies Record<string, ObjectRef>;
