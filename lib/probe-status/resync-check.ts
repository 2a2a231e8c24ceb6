// probe-status's resync check (lib/runtime/resync.ts): from the list of StatefulSets, which
// Streamers' StreamerReady (or status.ready) would change. Keeps only the condition each
// listed StatefulSet gives; a Streamer whose StatefulSet is not listed gets StatefulSetNotFound.
import { childNames } from '../k8s/meta.ts';
import type { ResyncCheck } from '../runtime/resync.ts';
import { plannedCondition } from '../status/set-condition.ts';
import { readyCondition, type ReadyCondition } from './readiness.ts';

export const probeResyncCheck: ResyncCheck<ReadyCondition> = {
  kinds: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', nameOf: (s) => childNames(s).statefulSet }],
  keep: (streamer, _kind, statefulSet) => readyCondition({ name: childNames(streamer).statefulSet, read: { kind: 'found', statefulSet } }),
  differs(streamer, kept) {
    const input = kept.StatefulSet ?? readyCondition({ name: childNames(streamer).statefulSet, read: { kind: 'missing' } });
    return plannedCondition({ streamer, input, fields: { ready: input.status === 'True' } }).changed;
  },
};
