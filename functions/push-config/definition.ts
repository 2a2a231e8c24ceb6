// push-config: saves a Streamer's effective configuration on its running media server
// through the API (no restart) and sets StreamerConfigSaved. See lib/push-config/push-config.ts.
import { pushConfig, PUSH_CONFIG_FIELD_MANAGER } from '../../lib/push-config/push-config.ts';
import { pushResyncCheck } from '../../lib/push-config/resync-check.ts';
import type { FunctionDefinition } from '../../lib/runtime/register.ts';

export const NAME = 'push-config';

export const definition: FunctionDefinition = {
  name: NAME,
  fieldManager: PUSH_CONFIG_FIELD_MANAGER,
  resyncCheck: pushResyncCheck,
  async work({ kube, streamer }) {
    const outcome = await pushConfig({ kube, streamer, reportingInstance: NAME });
    return {
      configSaved: outcome.status,
      reason: outcome.reason,
      ...(outcome.pushed ? { pushed: true } : {}),
      ...(outcome.eventError ? { eventError: outcome.eventError } : {}),
    };
  },
};
