// One resync tick of one function, sized for thousands of Streamers: read the cluster with a
// handful of paginated lists (the Streamers, then each child kind the function looks at, by
// the operator's label), decide in memory which Streamers differ from what the function would
// make of them, and run the function's work only for those. An unchanged cluster therefore
// costs O(kinds × pages) reads, zero writes and zero media-server calls.
//
// Memory stays bounded by one item, whatever the page size: pages are streamed
// (KubeClient.streamPage), each listed object is reduced at once to what the decision needs
// (`keep`) and dropped. Secret values are never kept.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { MANAGED_BY_LABEL } from '../k8s/meta.ts';
import { Streamer, STREAMER_API_VERSION, STREAMER_KIND } from '../schema/streamer.ts';

/**
 * A child kind a function's resync looks at, and the name it has for a given Streamer.
 * `metadataOnly`: the check's `keep` reads only the object's metadata, so the list asks for
 * metadata only (a page of 500 Pods is ~4.5 MB of JSON in full, most of it spec and status).
 */
export type ResyncKind = { apiVersion: string; kind: string; nameOf(streamer: Streamer): string; metadataOnly?: boolean };

/**
 * How a function tells, from lists alone, whether a Streamer needs its work. Must answer
 * "differs" whenever the work would write or call out; answering it too often only costs the
 * work's own reads (the work re-reads and decides again).
 */
export type ResyncCheck<Kept = unknown> = {
  kinds: readonly ResyncKind[];
  /** What to keep of the listed child of `kind` (the page is dropped after): as little as the decision needs. */
  keep(streamer: Streamer, kind: string, live: KubeObject): Kept;
  /** Whether the Streamer needs the work, from what was kept per kind (absent: nothing listed under that name). */
  differs(streamer: Streamer, kept: Readonly<Record<string, Kept>>): boolean;
};

export type ResyncPlan = {
  /** Streamers listed (parsed, not being deleted). */
  streamers: number;
  /** The ones the check says need work (all of them without a check). */
  differing: Streamer[];
  /** List requests made. */
  lists: number;
  /** Listed objects that did not parse as a Streamer (logged by the caller). */
  invalid: { namespace?: string; name?: string; issues: string[] }[];
};

/**
 * Items per list page. The pages are streamed, so their size costs the API server (one request
 * holds this many objects), not the replica: 2000 lists a kind of up to 1999 objects in one
 * request (a page that comes back full brings a token, so 2000 matches take two).
 */
export const DEFAULT_PAGE_SIZE = 2000;

/** Lists every page of `kind` (by `labelSelector`), handing each item to `each` as it arrives. */
export async function forEachListed(
  kube: KubeClient,
  query: { apiVersion: string; kind: string; namespace?: string; labelSelector?: string; metadataOnly?: boolean },
  pageSize: number,
  each: (item: KubeObject) => void,
): Promise<number> {
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await kube.streamPage({ ...query, limit: pageSize, ...(token ? { continue: token } : {}) }, each);
    pages++;
    token = page.continue;
  } while (token);
  return pages;
}

/**
 * Reads the cluster and decides which Streamers need the function's work. With `namespaces`
 * (the namespaced install, STREAMER_NAMESPACES) each kind is listed in each of those namespaces
 * instead of cluster-wide, which that install's Roles would refuse.
 */
export async function planResync({
  kube,
  check,
  pageSize = DEFAULT_PAGE_SIZE,
  namespaces,
}: {
  kube: KubeClient;
  check?: ResyncCheck;
  pageSize?: number;
  namespaces?: readonly string[];
}): Promise<ResyncPlan> {
  const plan: ResyncPlan = { streamers: 0, differing: [], lists: 0, invalid: [] };
  const entries: { streamer: Streamer; kept: Record<string, unknown> }[] = [];
  const scopes = namespaces?.length ? namespaces : [undefined];
  const listAll = async (query: { apiVersion: string; kind: string; labelSelector?: string; metadataOnly?: boolean }, each: (item: KubeObject) => void) => {
    let pages = 0;
    for (const namespace of scopes) pages += await forEachListed(kube, namespace ? { ...query, namespace } : query, pageSize, each);
    return pages;
  };
  plan.lists += await listAll({ apiVersion: STREAMER_API_VERSION, kind: STREAMER_KIND }, (item) => {
    const parsed = Streamer.safeParse(item);
    if (!parsed.success) {
      plan.invalid.push({ namespace: item.metadata?.namespace, name: item.metadata?.name, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      return;
    }
    if (parsed.data.metadata.deletionTimestamp) return;
    entries.push({ streamer: parsed.data, kept: {} });
  });
  plan.streamers = entries.length;
  if (!check) {
    plan.differing = entries.map((e) => e.streamer);
    return plan;
  }
  const labelSelector = `${MANAGED_BY_LABEL.key}=${MANAGED_BY_LABEL.value}`;
  for (const kind of check.kinds) {
    const byName = new Map<string, (typeof entries)[number]>();
    for (const entry of entries) byName.set(`${entry.streamer.metadata.namespace}/${kind.nameOf(entry.streamer)}`, entry);
    plan.lists += await listAll({ apiVersion: kind.apiVersion, kind: kind.kind, labelSelector, ...(kind.metadataOnly ? { metadataOnly: true } : {}) }, (item) => {
      const entry = byName.get(`${item.metadata.namespace}/${item.metadata.name}`);
      if (entry) entry.kept[kind.kind] = check.keep(entry.streamer, kind.kind, item);
    });
  }
  plan.differing = entries.filter((e) => check.differs(e.streamer, e.kept)).map((e) => e.streamer);
  return plan;
}
