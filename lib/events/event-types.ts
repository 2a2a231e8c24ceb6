// The CloudEvent types the operator reacts to and what a parsed event looks like.
// Sources: knative.md §1.1 (ApiServerSource, `pkg/apis/sources/constants.go`) and §4 (PingSource).

/** What happened to the object. */
export const EventAction = ['add', 'update', 'delete'] as const;
export type EventAction = (typeof EventAction)[number];

/** ApiServerSource `spec.mode`: Resource sends the whole object, Reference only its coordinates. */
export const EventMode = ['resource', 'reference'] as const;
export type EventMode = (typeof EventMode)[number];

/** `dev.knative.apiserver.<resource|ref>.<add|update|delete>` */
const API_SERVER_TYPE = /^dev\.knative\.apiserver\.(resource|ref)\.(add|update|delete)$/;

/** The PingSource event type: our periodic resync tick. */
export const PING_EVENT_TYPE = 'dev.knative.sources.ping';

/** The mode and action an ApiServerSource event type names, or null for any other type. */
export function apiServerEventKind(type: string): { mode: EventMode; action: EventAction } | null {
  const match = API_SERVER_TYPE.exec(type);
  if (!match) return null;
  return { mode: match[1] === 'ref' ? 'reference' : 'resource', action: match[2] as EventAction };
}

/** The ApiServerSource type string for a mode and action (the inverse of apiServerEventKind). */
export function apiServerEventType(mode: EventMode, action: EventAction): string {
  return `dev.knative.apiserver.${mode === 'reference' ? 'ref' : 'resource'}.${action}`;
}

/** Which object an event is about, from the `apiversion`/`kind`/`namespace`/`name` extensions. */
export type ObjectRef = { apiVersion: string; kind: string; namespace: string; name: string };

/** An ApiServerSource event: a hint that `ref` changed. */
export type ObjectEvent = {
  kind: 'object';
  action: EventAction;
  mode: EventMode;
  ref: ObjectRef;
  /**
   * Resource mode only: the object as the watch delivered it (for delete, its last state).
   * A hint, possibly stale or reordered; a Secret's carries its data, so never log it.
   */
  object?: Record<string, unknown>;
  id: string;
  type: string;
};

/** A PingSource tick: reconcile every Streamer. */
export type ResyncEvent = { kind: 'resync'; id: string; type: string };

/** A valid CloudEvent of a type the operator does not handle (answered 2xx, no work). */
export type IgnoredEvent = { kind: 'ignored'; reason: string; id: string; type: string };

export type ParsedEvent = ObjectEvent | ResyncEvent | IgnoredEvent;
