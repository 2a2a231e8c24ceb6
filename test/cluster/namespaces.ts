import type { Test } from 'uvu';
import type { Cluster } from './index.ts';

/**
 * Gives each test of a suite its own namespace and deletes it, Pods included, after the test.
 * The quickstart binds hostPort 81 on stream-node, so only one of its Pods can run at a time.
 */
export function namespacePerTest(test: Test, cluster: Pick<Cluster, 'kubectl' | 'createNamespace'>): (prefix: string) => Promise<string> {
  let current: string | undefined;
  test.after.each(async () => {
    if (current) await cluster.kubectl(['delete', 'namespace', current, '--wait=true', '--timeout=90s']);
    current = undefined;
  });
  return async (prefix) => {
    current = await cluster.createNamespace(prefix);
    return current;
  };
}
