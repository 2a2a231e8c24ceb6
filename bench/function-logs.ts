// Reads the functions' JSON log lines (lib/events/handler.ts writes one per event, with
// `result: { reads, writes, … }`) from the log files of the ksvc stand-in's Pods
// (KnativeSandbox.functionLogs(): one file per replica, every function's lines in it).
import { readFile } from 'node:fs/promises';
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

/** Every line of function `fn` in `files`. */
export async function readLines(files: string[], fn: string): Promise<EventLine[]> {
  const texts = await Promise.all(files.map((file) => readFile(file, 'utf8').catch(() => '')));
  const lines: EventLine[] = [];
  for (const raw of texts.join('\n').split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const line = JSON.parse(raw) as EventLine;
      if (line.function === fn) lines.push(line);
    } catch {
      // A line cut by a concurrent write; the next read sees it whole.
    }
  }
  return lines;
}

/** The log line of one event, once the function has written it (`files` is asked again each time: replicas come and go). */
export function lineOf(files: () => string[], fn: string, eventId: string): Promise<EventLine> {
  return waitFor(`${fn}'s log line for event ${eventId}`, async () => (await readLines(files(), fn)).find((l) => l.eventId === eventId), {
    timeoutMs: 30_000,
    intervalMs: 50,
  });
}
