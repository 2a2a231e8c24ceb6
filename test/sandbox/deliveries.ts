// The host side of test/delivery-proxy/serve.ts: reads the proxy's record file (in the run
// directory) and groups its lines into deliveries as a test asks about them — one per Trigger and
// event copy, with how many attempts Knative made and whether the event reached the dead-letter
// sink. The host never dials the sealed network; it only reads this file.
import { readFileSync } from 'node:fs';

export type Delivery = {
  /** The Trigger, read from the subscriber path (`/reconcile-children` → reconcile-children). */
  trigger: string;
  eventId: string;
  eventType: string;
  kind?: string;
  name?: string;
  /** The last attempt's answer. */
  status: number | 'network-error' | 'pending';
  /** Every answered attempt's status, in order (a Knative retry, or the same event sent again, adds one). */
  answers: (number | 'network-error')[];
  attempts: number;
  deadLettered: boolean;
  /** 0: the copy whose answer Knative gets (and retries on); 1: the proxy's duplicate (chaos). */
  copy: number;
};

type Line = { phase: 'start' | 'end'; path: string; id?: string; type?: string; kind?: string; name?: string; copy: number; status?: number | 'network-error'; inFlight: number; time: string };

export type DeliveryRecord = {
  /** Every delivery so far, in the order of their first attempt. */
  readonly deliveries: Delivery[];
  /** Resolves once no request has been in flight at the proxy for quietMs (bounded by timeoutMs). */
  idle(timeoutMs?: number, quietMs?: number): Promise<void>;
  /**
   * Deliveries Knative has not finished with: in flight, or answered with a failure and neither
   * dead-lettered yet nor answered 2xx on a retry (its backoff may be seconds; idle() cannot see it).
   */
  readonly unfinished: Delivery[];
};

function lines(file: string): Line[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

export function deliveriesOf(records: Line[]): Delivery[] {
  const byKey = new Map<string, Delivery>();
  const deadLettered = new Set(records.filter((r) => r.path.startsWith('/dead-letter') && r.phase === 'start').map((r) => r.id));
  for (const r of records) {
    if (r.path.startsWith('/dead-letter')) continue;
    const trigger = r.path.replace(/^\//, '').split(/[/?]/)[0] ?? '';
    const key = `${trigger} ${r.id} ${r.copy}`;
    let delivery = byKey.get(key);
    if (!delivery) {
      delivery = { trigger, eventId: r.id ?? '', eventType: r.type ?? '', ...(r.kind ? { kind: r.kind } : {}), ...(r.name ? { name: r.name } : {}), status: 'pending', answers: [], attempts: 0, deadLettered: false, copy: r.copy };
      byKey.set(key, delivery);
    }
    if (r.phase === 'start') delivery.attempts++;
    else delivery.answers.push((delivery.status = r.status ?? 'network-error'));
    delivery.deadLettered = deadLettered.has(r.id);
  }
  return [...byKey.values()];
}

export function deliveryRecord(file: string): DeliveryRecord {
  return {
    get deliveries() {
      return deliveriesOf(lines(file));
    },
    get unfinished() {
      return deliveriesOf(lines(file)).filter((d) => d.copy === 0 && !d.deadLettered && !(typeof d.status === 'number' && d.status >= 200 && d.status < 300));
    },
    async idle(timeoutMs = 30_000, quietMs = 500) {
      const deadline = Date.now() + timeoutMs;
      let seen = -1;
      while (Date.now() < deadline) {
        const all = lines(file);
        const last = all.at(-1);
        if (all.length === seen && (!last || last.inFlight === 0)) return;
        seen = all.length;
        await new Promise((resolve) => setTimeout(resolve, quietMs));
      }
    },
  };
}
