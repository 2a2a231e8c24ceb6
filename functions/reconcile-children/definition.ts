// reconcile-children: makes a Streamer's seven children (and the running
// Pod's hot metadata) match the pure builders, and reports it as ChildrenReady.
// See lib/reconcile/children.ts and lib/reconcile/children-condition.ts.
import { FIELD_MANAGER, isChildKind } from '../../lib/reconcile/children.ts';
import { reconcileAndReport } from '../../lib/reconcile/children-condition.ts';
import { childrenResyncCheck } from '../../lib/reconcile/resync-check.ts';
import type { FunctionDefinition } from '../../lib/runtime/register.ts';
import type { Streamer } from '../../lib/schema/streamer.ts';
import { findCondition } from '../../lib/status/condition.ts';
import { ConditionType } from '../../lib/status/condition-types.ts';

export const NAME = 'reconcile-children';

/**
 * Streamer generations this process has brought all children to, by uid. Every status write of
 * push-config and probe-status is a Streamer update event; when the spec's generation is one
 * already converged, such an event has nothing to do (children's own drift arrives as child
 * events, and resync ticks always check in full). Converged here, or by another replica: its
 * ChildrenReady True for this generation on the Streamer itself (written only with no child
 * pending, under the status precondition, so a stale replica cannot claim a newer generation).
 * With several replicas most update events land on a replica that did not converge the
 * Streamer, and without the condition each cost a full pass (a read per child kind). Only an
 * optimisation: a new process starts empty; bounded so it cannot grow without limit.
 */
const converged = new Map<string, number>();
const CONVERGED_LIMIT = 10_000;

const reportedConverged = (streamer: Streamer) => {
  const reported = findCondition(streamer, ConditionType.childrenReady);
  return reported?.status === 'True' && reported.observedGeneration === streamer.metadata.generation;
};

export const definition: FunctionDefinition = {
  name: NAME,
  fieldManager: FIELD_MANAGER,
  resyncCheck: childrenResyncCheck,
  async work({ kube, streamer, cause }) {
    const { uid, generation } = streamer.metadata;
    const isConverged = generation !== undefined && (converged.get(uid) === generation || reportedConverged(streamer));
    if (isConverged && cause?.kind === 'Streamer' && cause.action === 'update') return { skipped: 'generation-converged' };
    // An event about one child of a converged generation can only have changed that child: the
    // pass reads it alone (the StatefulSet with its Pod), not all seven (children.ts).
    const only = isConverged && cause && isChildKind(cause.kind) ? cause.kind : undefined;
    const reported = await reconcileAndReport({ kube, streamer, reportingInstance: NAME, ...(only ? { only } : {}) });
    if (reported.kind === 'refused') {
      // Recorded on the Streamer (ChildrenReady=False) and answered 2xx: retrying the same
      // spec would be refused again. Not marked converged, so the next event tries again.
      return {
        childrenReady: 'False',
        reason: reported.reason,
        ...(reported.child ? { refused: `${reported.child.kind} ${reported.child.name}` } : {}),
        ...(reported.eventRecorded ? { warned: true } : {}),
      };
    }
    const { outcome } = reported;
    // A child still waiting on Kubernetes (a StatefulSet being recreated) is not converged.
    if (generation !== undefined && outcome.pending.length === 0) {
      if (converged.size >= CONVERGED_LIMIT) converged.clear();
      converged.set(uid, generation);
    }
    return {
      ...(outcome.created.length ? { created: outcome.created } : {}),
      ...(outcome.updated.length ? { updated: outcome.updated } : {}),
      ...(outcome.restarted ? { restarted: true } : {}),
      ...(outcome.podPatched ? { podPatched: true } : {}),
      ...(outcome.recreated.length ? { recreated: outcome.recreated.map((r) => r.kind) } : {}),
      ...(outcome.pending.length ? { pending: outcome.pending } : {}),
      ...(outcome.podReplaced ? { podReplaced: true } : {}),
      ...(outcome.narrowed ? { only } : {}),
      ...(reported.written ? { childrenReady: 'True' } : {}),
    };
  },
};
