// probe-status: sets StreamerReady and status.ready from the StatefulSet's ready replicas,
// on StatefulSet and Pod events and resync ticks. See lib/probe-status/probe-status.ts.
import { probeStatus, PROBE_STATUS_FIELD_MANAGER } from '../../lib/probe-status/probe-status.ts';
import { probeResyncCheck } from '../../lib/probe-status/resync-check.ts';
import type { FunctionDefinition } from '../../lib/runtime/register.ts';

export const NAME = 'probe-status';

export const definition: FunctionDefinition = {
  name: NAME,
  fieldManager: PROBE_STATUS_FIELD_MANAGER,
  resyncCheck: probeResyncCheck,
  async work({ kube, streamer }) {
    const outcome = await probeStatus({ kube, streamer, reportingInstance: NAME });
    return {
      streamerReady: outcome.status,
      reason: outcome.reason,
      ...(outcome.eventError ? { eventError: outcome.eventError } : {}),
    };
  },
};
