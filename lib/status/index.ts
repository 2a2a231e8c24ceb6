// Status conditions shared by the functions (re-exports only).
export { ConditionType } from './condition-types.ts';
export {
  findCondition,
  isTransition,
  MAX_MESSAGE_LENGTH,
  nextCondition,
  rfc3339,
  sameCondition,
  type ConditionInput,
} from './condition.ts';
export { applyStatus, StatusConflictError } from './apply-status.ts';
export { plannedCondition, setCondition, type SetConditionOptions, type SetConditionResult } from './set-condition.ts';
