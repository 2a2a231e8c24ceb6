// probe-status: the StreamerReady condition and status.ready (re-exports only).
export { probeStatus, PROBE_STATUS_FIELD_MANAGER, type ProbeOutcome } from './probe-status.ts';
export { readyCondition, ReadyReason, type ReadyCondition, type StatefulSetRead } from './readiness.ts';
