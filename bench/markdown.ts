// BENCHMARKS.md upkeep: each bench owns a block between
// `<!-- bench:<id> -->` and `<!-- /bench:<id> -->`; a run rewrites only the
// blocks it measured, so hand-written notes around them survive.
import { readFile, writeFile } from 'node:fs/promises';

export type Table = { head: string[]; rows: string[][] };

export function renderTable({ head, rows }: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Replaces (or appends) the block `id` in `text` with `body`. */
export function replaceBlock(text: string, id: string, body: string): string {
  const open = `<!-- bench:${id} -->`;
  const close = `<!-- /bench:${id} -->`;
  const block = `${open}\n${body.trim()}\n${close}`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start === -1 || end === -1 || end < start) return `${text.trimEnd()}\n\n${block}\n`;
  return `${text.slice(0, start)}${block}${text.slice(end + close.length)}`;
}

/** Rewrites the given blocks of the file (created with a title when missing). */
export async function updateBlocks(file: string, blocks: Record<string, string>): Promise<void> {
  let text = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  for (const [id, body] of Object.entries(blocks)) text = replaceBlock(text, id, body);
  await writeFile(file, text);
}
