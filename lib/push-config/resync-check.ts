// push-config's resync check (lib/runtime/resync.ts): from the list of Pods, which Streamers
// pushConfig would push for or write a status for — the same decidePush, on listed objects.
//
// Secrets are not listed: the operator holds no list permission on Secrets, on purpose
// (knative/base/rbac-operator.yaml), so the check takes the credentials' version as the one
// status.configPush recorded. A change of the generated <name>-license-storage Secret arrives
// as that Secret's own event; only a lost Secret event goes unnoticed here (harmlessly: a
// password changed by hand makes the next push False/Forbidden anyway, and the running server
// keeps the old one until its Pod is recreated). A Streamer whose credentials come from
// spec.editAuth names an object nobody watches, so it always gets the work, which reads it.
import { childNames } from '../k8s/meta.ts';
import type { ResyncCheck } from '../runtime/resync.ts';
import { ConditionType } from '../status/condition-types.ts';
import { plannedCondition } from '../status/set-condition.ts';
import { decidePush } from './push-config.ts';
import { streamerPodFrom, type StreamerPod } from './streamer-pod.ts';

export const pushResyncCheck: ResyncCheck<StreamerPod> = {
  kinds: [{ apiVersion: 'v1', kind: 'Pod', nameOf: (s) => childNames(s).pod }],
  keep: (streamer, _kind, live) => streamerPodFrom(streamer, live),
  differs(streamer, kept) {
    const recorded = streamer.status?.configPush;
    const pod = kept.Pod ?? streamerPodFrom(streamer, null);
    if (pod.kind === 'running' && (streamer.spec.editAuth || !recorded)) return true;
    const decision = decidePush({ streamer, pod, editAuth: recorded ? { version: recorded.editAuthVersion } : undefined });
    if (decision.kind === 'save') return true;
    const fields = decision.configPush ? { configPush: decision.configPush } : {};
    return plannedCondition({ streamer, input: { type: ConditionType.configSaved, ...decision.input }, fields }).changed;
  },
};
