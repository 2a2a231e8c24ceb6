// Reads the sandbox functions' JSON log lines (lib/events/handler.ts writes
// one per event, with `result: { reads, writes, … }`).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../test/cluster/wait.ts';

export type EventLine = {
  time: string;
  function: string;
  outcome: string;
  status?: number;
  eventId?: string;
  eventType?: string;
  streamer?: string;
  durationMs?: number;
  result?: { reads?: number; writes?: number; [key: string]: unknown };
};

export async function readLines(logDir: string, fn: string): Promise<EventLine[]> {
  const text = await readFile(join(logDir, `${fn}.log`), 'utf8').catch(() => '');
  const lines: EventLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(raw) as EventLine);
    } catch {
      // A line cut by a concurrent write; the next read sees it whole.
    }
  }
  return lines;
}

/** The log line of one event, once the function has written it. */
export function lineOf(logDir: string, fn: string, eventId: string): Promise<EventLine> {
  return waitFor(`${fn}'s log line for event ${eventId}`, async () => (await readLines(logDir, fn)).find((l) => l.eventId === eventId), {
    timeoutMs: 10_000,
    intervalMs: 50,
  });
}
