// The naming convention run backwards: which Streamer a child's name points at. Used only when
// the child is gone (a Reference-mode delete), since then there is no owner reference to read.
// The suffixes are those of childNames() in lib/k8s/meta.ts; test/events/child-names.test.ts
// checks the two agree.
import { groupOf } from './owners.ts';

/** Child kinds (by API group and kind) and the suffix their name adds to the Streamer's. */
const CHILD_SUFFIXES = [
  { group: 'apps', kind: 'StatefulSet', suffix: '-streamer' },
  { group: '', kind: 'Service', suffix: '-headless' },
  { group: '', kind: 'ConfigMap', suffix: '-config' },
  { group: '', kind: 'Secret', suffix: '-license-storage' },
  { group: '', kind: 'ServiceAccount', suffix: '-sa' },
  { group: 'rbac.authorization.k8s.io', kind: 'Role', suffix: '-role' },
  { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', suffix: '-rb' },
] as const;

/** The StatefulSet's pods: `<streamer>-streamer-<ordinal>`. */
const POD_NAME = /^(.+)-streamer-(?:0|[1-9][0-9]*)$/;

/** The Streamer name a child's name implies, or null when the name does not follow the convention. */
export function streamerNameFromChild(ref: { apiVersion: string; kind: string; name: string }): string | null {
  const group = groupOf(ref.apiVersion);
  if (group === '' && ref.kind === 'Pod') return POD_NAME.exec(ref.name)?.[1] ?? null;
  const entry = CHILD_SUFFIXES.find((child) => child.group === group && child.kind === ref.kind);
  if (!entry || !ref.name.endsWith(entry.suffix)) return null;
  const name = ref.name.slice(0, -entry.suffix.length);
  return name === '' ? null : name;
}
