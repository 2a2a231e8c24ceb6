// reconcile-children: makes a Streamer's seven children (and the running
// Pod's hot metadata) match the pure builders. See lib/reconcile/children.ts.
import { FIELD_MANAGER, reconcileChildren } from '../../lib/reconcile/children.ts';
import type { FunctionDefinition } from '../../lib/runtime/register.ts';

export const NAME = 'reconcile-children';

export const definition: FunctionDefinition = {
  name: NAME,
  fieldManager: FIELD_MANAGER,
  async work({ kube, streamer }) {
    const outcome = await reconcileChildren({ kube, streamer, reportingInstance: NAME });
    return {
      ...(outcome.created.length ? { created: outcome.created } : {}),
      ...(outcome.updated.length ? { updated: outcome.updated } : {}),
      ...(outcome.restarted ? { restarted: true } : {}),
      ...(outcome.podPatched ? { podPatched: true } : {}),
    };
  },
};
