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
  attempts: number;
  deadLettered: boolean;
};

type Line = { phase: 'start' | 'end'; path: string; id?: string; type?: string; kind?: string; name?: string; copy: number; status?: number | 'network-error'; inFlight: number; time: string };

export type DeliveryRecord = {
  /** Every delivery so far, in the order of their first attempt. */
  readonly deliveries: Delivery[];
  /** Resolves once no request has been in flight at the proxy for quietMs (bounded by timeoutMs). */
  idle(timeoutMs?: number, quietMs?: number): Promise<void>;
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
      delivery = { trigger, eventId: r.id ?? '', eventType: r.type ?? '', ...(r.kind ? { kind: r.kind } : {}), ...(r.name ? { name: r.name } : {}), status: 'pending', attempts: 0, deadLettered: false };
      byKey.set(key, delivery);
    }
    if (r.phase === 'start') delivery.attempts++;
    else delivery.status = r.status ?? 'network-error';
    delivery.deadLettered = deadLettered.has(r.id);
  }
  return [...byKey.values()];
}

export function deliveryRecord(file: string): DeliveryRecord {
  return {
    get deliveries() {
      return deliveriesOf(lines(file));
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
