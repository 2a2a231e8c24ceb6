// `kubectl auth can-i` as another identity (SelfSubjectAccessReviews under impersonation), and
// matrices of allowed and refused rows, for the RBAC tests of the default and namespaced installs.
import * as assert from 'uvu/assert';
import type { Kubectl } from '../cluster/kubectl.ts';

/** `kubectl auth can-i` as `user`: true for "yes". `where` is a namespace or 'all'. */
export async function can(kubectl: Kubectl, user: string, verb: string, resource: string, where: string, subresource?: string): Promise<boolean> {
  const scope = where === 'all' ? ['--all-namespaces'] : ['-n', where];
  const result = await kubectl(['auth', 'can-i', verb, resource, ...scope, `--as=${user}`, ...(subresource ? [`--subresource=${subresource}`] : [])]);
  const answer = result.stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl auth can-i ${verb} ${resource}: ${result.stderr}`);
  return answer === 'yes';
}

/** A check: verb, resource, where ('user': the Streamers' namespace, 'other': kube-system, 'all'). */
export type Row = [verb: string, resource: string, where: 'user' | 'other' | 'all', subresource?: string];

export async function assertMatrix(kubectl: Kubectl, userNamespace: string, user: string, allowed: Row[], refused: Row[]): Promise<void> {
  const where = (w: Row[2]) => (w === 'user' ? userNamespace : w === 'other' ? 'kube-system' : 'all');
  const checks = [...allowed.map((row) => [true, row] as const), ...refused.map((row) => [false, row] as const)];
  const wrong: string[] = [];
  // Eight kubectl processes at a time: each answer is one SelfSubjectAccessReview.
  for (let i = 0; i < checks.length; i += 8) {
    await Promise.all(checks.slice(i, i + 8).map(async ([expect, [verb, resource, scope, subresource]]) => {
      const answer = await can(kubectl, user, verb, resource, where(scope), subresource);
      if (answer !== expect) wrong.push(`${verb} ${resource}${subresource ? `/${subresource}` : ''} in ${scope}: ${answer ? 'allowed' : 'refused'}`);
    }));
  }
  assert.equal(wrong.sort(), [], `${user}:\n${wrong.join('\n')}`);
}
