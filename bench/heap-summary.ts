// What holds a function process's heap: a V8 heap snapshot (written by a process started with
// --heapsnapshot-signal=SIGUSR2 when it gets the signal) summed by node type and by constructor
// or string/code kind, largest first. Self sizes only (what each object itself occupies).
//
//   node bench/heap-summary.ts <file.heapsnapshot> [top]
import { readFile } from 'node:fs/promises';

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
};

export async function summarizeHeap(file: string, top = 15) {
  const data = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const byType = new Map<string, number>();
  const byName = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < data.nodes.length; i += fields.length) {
    const type = types[data.nodes[i + typeAt]!] ?? '?';
    const size = data.nodes[i + sizeAt]!;
    total += size;
    byType.set(type, (byType.get(type) ?? 0) + size);
    // Objects by constructor; strings, code and arrays by their type (their names are contents).
    const key = type === 'object' || type === 'closure' ? `${type} ${data.strings[data.nodes[i + nameAt]!]}` : type;
    const entry = byName.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count++;
    byName.set(key, entry);
  }
  const sorted = [...byName].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
  return { totalMb: total / 2 ** 20, byType: [...byType].sort((a, b) => b[1] - a[1]).map(([t, b]) => [t, b / 2 ** 20] as const), top: sorted.map(([k, v]) => ({ what: k, mb: v.bytes / 2 ** 20, count: v.count })) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top = '15'] = process.argv.slice(2);
  if (!file) throw new Error('usage: node bench/heap-summary.ts <file.heapsnapshot> [top]');
  const summary = await summarizeHeap(file, Number(top));
  process.stdout.write(`total self size ${summary.totalMb.toFixed(1)} MB\n`);
  for (const [type, mb] of summary.byType) process.stdout.write(`  ${type.padEnd(16)} ${mb.toFixed(1)} MB\n`);
  for (const row of summary.top) process.stdout.write(`${row.mb.toFixed(2).padStart(8)} MB ${String(row.count).padStart(8)}× ${row.what}\n`);
}
