// Event intake: CloudEvents from ApiServerSource/PingSource in, Streamer targets and HTTP answers out.
export { apiServerEventKind, apiServerEventType, EventAction, EventMode, PING_EVENT_TYPE } from './event-types.ts';
export type { IgnoredEvent, ObjectEvent, ObjectRef, ParsedEvent, ResyncEvent } from './event-types.ts';
export { parseEvent, type EventMessage } from './parse-event.ts';
export { EventParseError, isRetryableStatus, isTransient, TransientError } from './errors.ts';
export { describeError, type ErrorSummary } from './describe-error.ts';
export { controllerOf, groupOf, isStatefulSetRef, isStreamerRef, type OwnerRef } from './owners.ts';
export { streamerNameFromChild } from './child-names.ts';
export { resolveStreamer, type ObjectKey, type ObjectReader, type StreamerTarget } from './resolve-streamer.ts';
export { outcomeLabel, toHttpResponse, type EventOutcome, type HttpResponse, type OutcomeLabel } from './http-response.ts';
export { streamerGone, StreamerGoneError, type GoneReason } from './streamer-gone.ts';
export { adapterRolledOut, ADAPTER_LABEL, ADAPTER_LABEL_VALUE, isDeploymentRef } from './source-rollout.ts';
export { runBounded, type RunBoundedOptions, type RunSummary } from './run-bounded.ts';
export {
  HEALTH_PATHS,
  makeEventHandler,
  type EventHandlerDeps,
  type EventLogLine,
  type EventRequest,
  type EventResponse,
} from './handler.ts';
