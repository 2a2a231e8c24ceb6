// push-config: saves a Streamer's effective configuration on its running media server
// through the API (no restart) and sets StreamerConfigSaved. See lib/push-config/push-config.ts.
import { pushConfig, PUSH_CONFIG_FIELD_MANAGER } from '../../lib/push-config/push-config.ts';
import { pushResyncCheck } from '../../lib/push-config/resync-check.ts';
import type { FunctionDefinition } from '../../lib/runtime/register.ts';
import { ConditionType } from '../../lib/status/condition-types.ts';
import { answeredForGeneration } from '../../lib/status/status-echo.ts';
import { renderMediaServerConfig } from '../../lib/k8s/media-server-config.ts';
import { configHash } from '../../lib/push-config/config-hash.ts';

export const NAME = 'push-config';

export const definition: FunctionDefinition = {
  name: NAME,
  fieldManager: PUSH_CONFIG_FIELD_MANAGER,
  resyncCheck: pushResyncCheck,
  async work({ kube, streamer, cause }) {
    // A status echo (status-echo.ts) of a save already settled for this text: a new Pod and new
    // credentials send Pod and Secret events of their own.
    const answered = answeredForGeneration(streamer, ConditionType.configSaved, cause);
    if (answered && streamer.status?.configPush?.hash === configHash(renderMediaServerConfig(streamer))) return { skipped: 'generation-answered' };
    const outcome = await pushConfig({ kube, streamer, reportingInstance: NAME });
    return {
      configSaved: outcome.status,
      reason: outcome.reason,
      ...(outcome.pushed ? { pushed: true } : {}),
      ...(outcome.eventError ? { eventError: outcome.eventError } : {}),
    };
  },
};
