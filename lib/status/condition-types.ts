// The Streamer's condition types (spec, "Monitoring and statuses"). Each is owned by exactly
// one function, which server-side applies it under its own field manager.

export const ConditionType = {
  /** probe-status: the StatefulSet has a ready replica. */
  ready: 'StreamerReady',
  /** push-config: the latest configuration save through the media server API. */
  configSaved: 'StreamerConfigSaved',
  /** reconcile-children: every child matches the Streamer, or which one the API server refused and why. */
  childrenReady: 'ChildrenReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
