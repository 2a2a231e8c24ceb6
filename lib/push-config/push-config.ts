// push-config's core: bring the running media server's configuration in line with the
// Streamer, without restarting the Pod, and report the outcome as StreamerConfigSaved.
//
// It pushes when the effective config text (renderMediaServerConfig: base + logLevel +
// configExtra) changed, the Pod is new, the credentials object changed, or the last attempt
// ended Unknown. A True or False outcome for the same text, Pod and credentials is final:
// the same server would answer the same (False = 403/401 or an invalid config; the spec's
// "change the password by hand and it stays False until the Pod is recreated"). So an
// unchanged Streamer costs no media-server request and no write.
import { TransientError } from '../events/errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { renderMediaServerConfig } from '../k8s/media-server-config.ts';
import type { Condition } from '../schema/condition.ts';
import type { ConfigPush, Streamer } from '../schema/streamer.ts';
import { findCondition, type ConditionInput } from '../status/condition.ts';
import { ConditionType } from '../status/condition-types.ts';
import { setCondition } from '../status/set-condition.ts';
import { configHash } from './config-hash.ts';
import { EditAuthUnavailableError, readEditAuth } from './edit-auth-source.ts';
import { saveConfig, type MediaSettings, type PushResult } from './save.ts';
import { findStreamerPod } from './streamer-pod.ts';

/** Field manager of StreamerConfigSaved and status.configPush. */
export const PUSH_CONFIG_FIELD_MANAGER = 'streamer-operator-push-config';

export type PushReason = PushResult['reason'] | 'PodNotReady' | 'EditAuthUnavailable';

export type PushOutcome = {
  status: Condition['status'];
  reason: PushReason;
  /** The media server was called. */
  pushed: boolean;
  /** The status was written (something changed). */
  written: boolean;
  /** The condition's status or reason changed (an Event was recorded). */
  transitioned: boolean;
  eventError?: string;
};

/**
 * Pushes the Streamer's config to its Pod when needed and sets StreamerConfigSaved:
 * True (saved, HTTP 200), False (403 Forbidden, 401 Unauthorized, 400 ConfigInvalid with the
 * server's line and column), Unknown (5xx, timeout, unreachable, odd answers; also PodNotReady,
 * EditAuthUnavailable and EditAuthInvalid, which are not thrown: a Pod or Secret event, or the
 * resync tick, brings the function back). observedGeneration is the Streamer's generation; an
 * Event is recorded on each transition.
 * @throws TransientError after recording an Unknown the media server caused, so the event is
 *   redelivered with backoff (recovery needs no new edit); Kubernetes errors propagate.
 */
export async function pushConfig({
  kube,
  streamer,
  media,
  reportingInstance = 'push-config',
  now,
}: {
  kube: KubeClient;
  streamer: Streamer;
  media?: MediaSettings;
  reportingInstance?: string;
  now?: Date;
}): Promise<PushOutcome> {
  const previous = findCondition(streamer, ConditionType.configSaved);
  const recorded = streamer.status?.configPush;
  const record = async (input: Omit<ConditionInput, 'type'> & { reason: PushReason }, configPush: ConfigPush | undefined, pushed: boolean) => {
    const result = await setCondition({
      kube,
      streamer,
      fieldManager: PUSH_CONFIG_FIELD_MANAGER,
      input: { type: ConditionType.configSaved, ...input },
      fields: configPush ? { configPush } : {},
      event: { reportingInstance, action: 'Push', type: pushEventType },
      now,
    });
    const outcome: PushOutcome = { status: input.status, reason: input.reason, pushed, written: result.written, transitioned: result.transitioned };
    if (result.eventError) outcome.eventError = result.eventError;
    return outcome;
  };

  const pod = await findStreamerPod({ kube, streamer });
  // No retry here: the Pod's own events (created, Running) bring push-config back.
  if (pod.kind === 'unavailable') return record({ status: 'Unknown', reason: 'PodNotReady', message: pod.message }, recorded, false);

  let editAuth;
  try {
    editAuth = await readEditAuth({ kube, streamer });
  } catch (error) {
    if (!(error instanceof EditAuthUnavailableError)) throw error;
    return record({ status: 'Unknown', reason: 'EditAuthUnavailable', message: error.message }, recorded, false);
  }

  const text = renderMediaServerConfig(streamer);
  const target: ConfigPush = { hash: configHash(text), podUID: pod.uid, editAuthVersion: editAuth.version };
  if (previous && isSettled(previous, recorded, target)) {
    // Nothing to push; at most observedGeneration moves (e.g. a labels-only edit).
    return record({ status: previous.status, reason: previous.reason as PushReason, message: previous.message }, recorded, false);
  }

  const result = await saveConfig({ text, podIP: pod.podIP, editAuth: editAuth.value, media });
  const outcome = await record(result, target, true);
  if (result.status === 'Unknown' && result.reason !== 'EditAuthInvalid') {
    throw new TransientError(`StreamerConfigSaved is Unknown (${result.reason}); the push will be retried`);
  }
  return outcome;
}

/**
 * A Pod that is not running yet is progress, not a fault (every create passes through it):
 * Normal. Failed saves, refused credentials and unreachable servers need a person: Warning.
 */
function pushEventType(condition: Condition): 'Normal' | 'Warning' {
  return condition.status === 'True' || condition.reason === 'PodNotReady' ? 'Normal' : 'Warning';
}

/** The last attempt reached a final answer (True or False) for exactly this text, Pod and credentials. */
export function isSettled(previous: Condition, recorded: ConfigPush | undefined, target: ConfigPush): boolean {
  if (previous.status === 'Unknown' || recorded === undefined) return false;
  return recorded.hash === target.hash && recorded.podUID === target.podUID && recorded.editAuthVersion === target.editAuthVersion;
}
