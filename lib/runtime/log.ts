// Structured logs: one JSON object per line when stdout is not a terminal (for
// log collectors), a short readable line when it is (for `npm start`).
// Callers pass only identities and outcomes, never payloads or secret values.

export type LogFields = Record<string, unknown>;
export type Logger = (fields: LogFields) => void;

export function createLogger({
  stream = process.stdout,
  pretty = Boolean(process.stdout.isTTY),
}: { stream?: { write(text: string): unknown }; pretty?: boolean } = {}): Logger {
  return (fields) => {
    const line = { time: new Date().toISOString(), ...fields };
    stream.write(pretty ? `${readable(line)}\n` : `${JSON.stringify(line)}\n`);
  };
}

function readable(fields: LogFields): string {
  const { time, function: fn, outcome, streamer, eventType, durationMs, ...rest } = fields;
  const head = [String(time).slice(11, 23), fn, outcome, streamer ?? '', eventType ? `(${String(eventType).replace('dev.knative.', '')})` : '']
    .filter(Boolean)
    .join(' ');
  const tail = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${head}${durationMs !== undefined ? ` ${durationMs}ms` : ''}${tail ? ` ${tail}` : ''}`;
}
