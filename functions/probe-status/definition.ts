// probe-status: sets StreamerReady and status.ready from the StatefulSet's ready replicas,
// on StatefulSet and Pod events and resync ticks. See lib/probe-status/probe-status.ts.
import { probeStatus, PROBE_STATUS_FIELD_MANAGER } from '../../lib/probe-status/probe-status.ts';
import { probeResyncCheck } from '../../lib/probe-status/resync-check.ts';
import type { FunctionDefinition } from '../../lib/runtime/register.ts';
import { ConditionType } from '../../lib/status/condition-types.ts';
import { answeredForGeneration } from '../../lib/status/status-echo.ts';

export const NAME = 'probe-status';

const FROM_EVENTS: ReadonlySet<string> = new Set(['PodNotCreated', 'PodCreateFailed']);

export const definition: FunctionDefinition = {
  name: NAME,
  fieldManager: PROBE_STATUS_FIELD_MANAGER,
  resyncCheck: probeResyncCheck,
  async work({ kube, streamer, cause }) {
    // A status echo (status-echo.ts). Not for a Pod not created yet: the StatefulSet
    // controller's reason is read from Events, which send no event to this function.
    const answered = answeredForGeneration(streamer, ConditionType.ready, cause);
    if (answered && !FROM_EVENTS.has(answered.reason)) return { skipped: 'generation-answered' };
    const outcome = await probeStatus({ kube, streamer, reportingInstance: NAME });
    return {
      streamerReady: outcome.status,
      reason: outcome.reason,
      ...(outcome.eventError ? { eventError: outcome.eventError } : {}),
    };
  },
};
