// push-config's core: bring the running media server's configuration in line with the
// Streamer, without restarting the Pod, and report the outcome as StreamerConfigSaved.
//
// It pushes when the effective config text (renderMediaServerConfig: base + logLevel +
// configExtra) changed, the Pod is new, the credentials object changed, or the last attempt
// ended Unknown. A True or False outcome for the same text, Pod and credentials is final:
// the same server would answer the same (False = 403/401 or an invalid config; the spec's
// "change the password by hand and it stays False until the Pod is recreated"). So an
// unchanged Streamer costs no media-server request and no write.
//
// Several replicas may push for the same Streamer at once, each holding the Streamer as it
// read it. So that the server always ends with the last edit, every save is followed by a
// re-read of the Streamer: when it no longer renders the text just saved (an edit landed
// meanwhile, and our save may have overwritten a newer replica's), this run pushes again from
// the fresh Streamer, whatever the status says (the status may record the newer text as saved
// by the replica we overwrote). The last save to land is therefore always checked against a
// read made after it, and the status (written with the Streamer's resourceVersion as
// precondition) only ever records a text that was saved after the edit it renders.
import { TransientError } from '../events/errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { renderMediaServerConfig } from '../k8s/media-server-config.ts';
import type { Condition } from '../schema/condition.ts';
import { Streamer, STREAMER_API_VERSION, STREAMER_KIND, type ConfigPush } from '../schema/streamer.ts';
import { findCondition, type ConditionInput } from '../status/condition.ts';
import { ConditionType } from '../status/condition-types.ts';
import { StatusConflictError } from '../status/apply-status.ts';
import { setCondition } from '../status/set-condition.ts';
import { configHash } from './config-hash.ts';
import { EditAuthUnavailableError, readEditAuth, type EditAuthValue } from './edit-auth-source.ts';
import { saveConfig, type MediaSettings, type PushResult } from './save.ts';
import { findStreamerPod, isStarting, type StreamerPod } from './streamer-pod.ts';

/** Field manager of StreamerConfigSaved and status.configPush. */
export const PUSH_CONFIG_FIELD_MANAGER = 'streamer-operator-push-config';

export type PushReason = PushResult['reason'] | 'PodNotReady' | 'ServerStarting' | 'EditAuthUnavailable' | 'Superseded';

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
  /** Saves made again because the Streamer changed while one was in flight. */
  superseded?: number;
};

/** Pushes in one run before giving up on a Streamer that keeps changing under it. */
const MAX_PUSH_ROUNDS = 5;

/**
 * Pushes the Streamer's config to its Pod when needed and sets StreamerConfigSaved:
 * True (saved, HTTP 200), False (403 Forbidden, 401 Unauthorized, 400 ConfigInvalid with the
 * server's line and column), Unknown (5xx, timeout, unreachable, odd answers; ServerStarting
 * when unreachable in its first seconds, see isStarting; also PodNotReady, EditAuthUnavailable,
 * EditAuthInvalid and ServerStarting before the startup probe passed, which are not thrown: a
 * Pod or Secret event, or the resync tick, brings the function back). observedGeneration is
 * the Streamer's generation; an Event is recorded on each transition.
 * @throws TransientError after recording an Unknown the media server caused, so the event is
 *   redelivered with backoff (recovery needs no new edit); StatusConflictError when the
 *   Streamer changed before the status could be written (re-read and call again; nothing
 *   saved then is left unchecked); Kubernetes errors propagate.
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
  /** Sets the condition from `baseline` (the Streamer the decision was made from). */
  const record = async (
    baseline: Streamer,
    input: Omit<ConditionInput, 'type'> & { reason: PushReason },
    configPush: ConfigPush | undefined,
    pushed: boolean,
    precondition = true,
  ) => {
    const result = await setCondition({
      kube,
      streamer: baseline,
      fieldManager: PUSH_CONFIG_FIELD_MANAGER,
      input: { type: ConditionType.configSaved, ...input },
      fields: configPush ? { configPush } : {},
      event: { reportingInstance, action: 'Push', type: pushEventType },
      now,
      precondition,
    });
    const outcome: PushOutcome = { status: input.status, reason: input.reason, pushed, written: result.written, transitioned: result.transitioned };
    if (result.eventError) outcome.eventError = result.eventError;
    return outcome;
  };

  let current = streamer;
  /** A save of ours may have replaced a newer one: the recorded status no longer says what the server holds. */
  let distrustStatus = false;
  /** What this run saved last (True), so a status conflict after it costs no second save. */
  let saved: { target: ConfigPush; result: PushResult } | undefined;
  for (let round = 1; ; round++) {
    const pod = await findStreamerPod({ kube, streamer: current });
    let editAuth: EditAuthValue | undefined;
    let auth: EditAuthState | undefined;
    if (pod.kind === 'running') {
      try {
        editAuth = await readEditAuth({ kube, streamer: current });
        auth = { version: editAuth.version };
      } catch (error) {
        if (!(error instanceof EditAuthUnavailableError)) throw error;
        auth = { unavailable: error.message };
      }
    }
    const decision = decidePush({ streamer: current, pod, editAuth: auth, trustStatus: !distrustStatus && !saved });
    if (decision.kind === 'record') return record(current, decision.input, decision.configPush, false);
    const { text, target } = decision;

    let result: Omit<PushResult, 'reason'> & { reason: PushReason };
    if (saved && sameTarget(saved.target, target)) {
      result = saved.result; // saved by this run a moment ago, then checked against a later read
    } else {
      const attempt = await saveConfig({ text, podIP: decision.podIP, editAuth: editAuth?.value ?? '', media });
      if (attempt.status === 'True') saved = { target, result: attempt };
      result = attempt.reason === 'Unreachable' && pod.kind === 'running' && isStarting(pod, now ?? new Date())
        ? { status: 'Unknown', reason: 'ServerStarting', message: startingMessage(pod) }
        : attempt;
    }

    if (result.status === 'True') {
      // Check the save against a read made after it landed (see the file comment).
      const fresh = await readStreamer(kube, current);
      if (!fresh) return { status: result.status, reason: result.reason, pushed: true, written: false, transitioned: false };
      if (configHash(renderMediaServerConfig(fresh)) !== target.hash) {
        distrustStatus = true;
        if (round >= MAX_PUSH_ROUNDS) return giveUp(fresh);
        current = fresh;
        continue;
      }
      try {
        const outcome = await record(fresh, result, target, true);
        if (round > 1) outcome.superseded = round - 1;
        return outcome;
      } catch (error) {
        // Another function wrote the status (or an edit landed) after our re-read: read again,
        // and record without a second save when the text is still the one saved.
        if (!(error instanceof StatusConflictError) || round >= MAX_PUSH_ROUNDS) throw error;
        const again = await readStreamer(kube, fresh);
        if (!again) throw error;
        current = again;
        continue;
      }
    }

    const outcome = await record(current, result, target, true);
    // Not retried: a server before its startup probe (or crash-looping) comes back by the Pod's
    // own status change (started, a restart), which is a Pod event; retries would only run out.
    const awaitsPod = result.reason === 'ServerStarting' && pod.kind === 'running' && pod.startupPending;
    if (result.status === 'Unknown' && result.reason !== 'EditAuthInvalid' && !awaitsPod) {
      throw new TransientError(`StreamerConfigSaved is Unknown (${result.reason}); the push will be retried`);
    }
    return outcome;
  }

  /**
   * The Streamer kept changing through every round and the server may hold an older text than
   * the status says. Unknown is never settled, so whoever comes next (this event redelivered,
   * a newer event, the resync) pushes again. Written without precondition on purpose: it only
   * ever causes one more push.
   */
  async function giveUp(fresh: Streamer): Promise<never> {
    await record(fresh, { status: 'Unknown', reason: 'Superseded', message: `the Streamer changed ${MAX_PUSH_ROUNDS} times while its config was being saved; it will be saved again` }, fresh.status?.configPush, true, false);
    throw new TransientError(`Streamer ${fresh.metadata.namespace}/${fresh.metadata.name} kept changing during the push; it will be retried`);
  }
}

function startingMessage(pod: Extract<StreamerPod, { kind: 'running' }>): string {
  return pod.startupPending
    ? `The media server in Pod ${pod.name} has not passed its startup probe and does not accept connections yet; the Pod's next status change brings the push back`
    : `The media server in Pod ${pod.name} is starting and does not accept connections yet; the push will be retried`;
}

/** The credentials' state as far as a push decision needs it (never the value). */
export type EditAuthState = { version: string } | { unavailable: string };

export type PushDecision =
  /** Nothing to save: record this (Unknown while the Pod or credentials are not there; else the settled outcome). */
  | { kind: 'record'; input: Omit<ConditionInput, 'type'> & { reason: PushReason }; configPush: ConfigPush | undefined }
  | { kind: 'save'; text: string; target: ConfigPush; podIP: string };

/**
 * What pushConfig does for `streamer` given its Pod and credentials (pure, so a resync can
 * decide from lists). Without `trustStatus`, a settled status is not believed (see pushConfig).
 */
export function decidePush({
  streamer,
  pod,
  editAuth,
  trustStatus = true,
}: {
  streamer: Streamer;
  pod: StreamerPod;
  /** Undefined: not read (the Pod is unavailable). */
  editAuth: EditAuthState | undefined;
  trustStatus?: boolean;
}): PushDecision {
  const recorded = streamer.status?.configPush;
  // No retry for these two: the Pod's or the Secret's own events bring push-config back.
  if (pod.kind === 'unavailable') return { kind: 'record', input: { status: 'Unknown', reason: 'PodNotReady', message: pod.message }, configPush: recorded };
  if (!editAuth || 'unavailable' in editAuth) {
    return { kind: 'record', input: { status: 'Unknown', reason: 'EditAuthUnavailable', message: editAuth?.unavailable ?? 'edit_auth was not read' }, configPush: recorded };
  }
  const text = renderMediaServerConfig(streamer);
  const target: ConfigPush = { hash: configHash(text), podUID: pod.uid, editAuthVersion: editAuth.version };
  const previous = findCondition(streamer, ConditionType.configSaved);
  if (trustStatus && previous && isSettled(previous, recorded, target)) {
    // Nothing to push; at most observedGeneration moves (e.g. a labels-only edit).
    return { kind: 'record', input: { status: previous.status, reason: previous.reason as PushReason, message: previous.message }, configPush: recorded };
  }
  return { kind: 'save', text, target, podIP: pod.podIP };
}

/**
 * A Pod that is not running yet, or whose server is still opening its listener, is progress,
 * not a fault (every create and restart passes through both): Normal. Failed saves, refused
 * credentials and servers unreachable after their start need a person: Warning.
 */
function pushEventType(condition: Condition): 'Normal' | 'Warning' {
  return condition.status === 'True' || condition.reason === 'PodNotReady' || condition.reason === 'ServerStarting' ? 'Normal' : 'Warning';
}

/** The last attempt reached a final answer (True or False) for exactly this text, Pod and credentials. */
export function isSettled(previous: Condition, recorded: ConfigPush | undefined, target: ConfigPush): boolean {
  if (previous.status === 'Unknown' || recorded === undefined) return false;
  return sameTarget(recorded, target);
}

function sameTarget(a: ConfigPush, b: ConfigPush): boolean {
  return a.hash === b.hash && a.podUID === b.podUID && a.editAuthVersion === b.editAuthVersion;
}

/** The Streamer as stored now (null when gone or deleting), parsed like the function shell parses it. */
async function readStreamer(kube: KubeClient, streamer: Streamer): Promise<Streamer | null> {
  const { namespace, name } = streamer.metadata;
  const object = await kube.get({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND, namespace, name });
  if (!object || object.metadata.uid !== streamer.metadata.uid || object.metadata.deletionTimestamp) return null;
  const parsed = Streamer.safeParse(object);
  return parsed.success ? parsed.data : null;
}
