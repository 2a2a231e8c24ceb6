// Kubernetes Events (events.k8s.io/v1) about a Streamer: sparse, one per
// meaningful action, never carrying a secret value (notes are built from
// names and field paths only).
import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject } from './client.ts';

export const REPORTING_CONTROLLER = 'media.flussonic.com/streamer-operator';

export type EventType = 'Normal' | 'Warning';

export type StreamerEvent = {
  type: EventType;
  /** UpperCamelCase, stable: what happened (Created, SpecChangeRestart, ConfigSaved...). */
  reason: string;
  /** What the operator did: Create, Update, Apply, Push, Probe. */
  action: string;
  /** Human-readable, at most 1 kB. */
  note: string;
};

export async function recordEvent(
  kube: KubeClient,
  { regarding, reportingInstance, event }: { regarding: KubeObject; reportingInstance: string; event: StreamerEvent },
): Promise<void> {
  const namespace = regarding.metadata.namespace ?? 'default';
  await kube.create({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
    eventTime: new Date().toISOString().replace('Z', '000Z'),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance,
    action: event.action,
    reason: event.reason,
    note: event.note.slice(0, 1024),
    type: event.type,
    regarding: {
      apiVersion: regarding.apiVersion,
      kind: regarding.kind,
      name: regarding.metadata.name,
      namespace,
      uid: regarding.metadata.uid,
    },
  });
}
