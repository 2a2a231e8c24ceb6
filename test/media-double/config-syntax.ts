// Syntax of the media server's config text, as far as the double checks it
// (flussonic-api.md §5): statements end with `;`, blocks are `{ … }` after a directive and
// need no `;` after the `}`, `#` starts a comment to the end of the line, "…" quotes a value.
//
// The double rejects (error atom, reported at line/column, both 1-based):
// - `unbalanced_brace`: a `}` with no open block (at the `}`);
// - `unclosed_block`: a `{` never closed (at that `{`);
// - `missing_semicolon`: a statement not ended by `;` before a `}`, the end of the text, or
//   the end of its line (at the column just after its last word) — statements may not span lines;
// - `bad_directive`: a directive name that is not [a-z_][a-z0-9_]* (e.g. `invalid_directive!`);
// - `unexpected_block`: a `{` with no directive before it;
// - `unterminated_string`: a `"` with no closing `"` on the same line (at the opening quote).

export type Token = { kind: 'word' | '{' | '}' | ';'; text: string; quoted: boolean; line: number; col: number };
export type Statement = { words: Token[]; block?: Statement[] };
export type ConfigSyntaxError = { error: string; line: number; col: number };
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ConfigSyntaxError };

const DIRECTIVE = /^[a-z_][a-z0-9_]*$/;

/** Parses config text into nested statements, or the first syntax error with its position. */
export function parseConfigSyntax(text: string): Parsed<Statement[]> {
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  const parsed = parseBlock(tokens.value, 0, undefined);
  return parsed.ok ? { ok: true, value: parsed.value.statements } : parsed;
}

/** Column just after a token (where a missing `;` belongs). */
export function endCol(token: Token): number {
  return token.col + (token.quoted ? token.text.length + 2 : token.text.length);
}

function tokenize(text: string): Parsed<Token[]> {
  const tokens: Token[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const chars = raw.replace(/\r$/, '');
    let i = 0;
    while (i < chars.length) {
      const ch = chars[i] as string;
      const col = i + 1;
      if (/\s/.test(ch)) i++;
      else if (ch === '#') break;
      else if (ch === '{' || ch === '}' || ch === ';') {
        tokens.push({ kind: ch, text: ch, quoted: false, line, col });
        i++;
      } else if (ch === '"') {
        const close = chars.indexOf('"', i + 1);
        if (close < 0) return { ok: false, error: { error: 'unterminated_string', line, col } };
        tokens.push({ kind: 'word', text: chars.slice(i + 1, close), quoted: true, line, col });
        i = close + 1;
      } else {
        let j = i;
        while (j < chars.length && !/[\s{};"#]/.test(chars[j] as string)) j++;
        tokens.push({ kind: 'word', text: chars.slice(i, j), quoted: false, line, col });
        i = j;
      }
    }
  }
  return { ok: true, value: tokens };
}

type BlockResult = { statements: Statement[]; next: number };

function parseBlock(tokens: Token[], start: number, open: Token | undefined): Parsed<BlockResult> {
  const statements: Statement[] = [];
  let words: Token[] = [];
  const fail = (error: string, at: { line: number; col: number }): Parsed<BlockResult> => ({
    ok: false,
    error: { error, line: at.line, col: at.col },
  });
  const missingSemicolon = (last: Token) => fail('missing_semicolon', { line: last.line, col: endCol(last) });

  for (let pos = start; ; ) {
    const token = tokens[pos];
    const last = words.at(-1);
    if (token === undefined) {
      if (last !== undefined) return missingSemicolon(last);
      if (open !== undefined) return fail('unclosed_block', open);
      return { ok: true, value: { statements, next: pos } };
    }
    if (token.kind === 'word') {
      if (last !== undefined && token.line !== last.line) return missingSemicolon(last);
      if (last === undefined && (token.quoted || !DIRECTIVE.test(token.text))) return fail('bad_directive', token);
      words.push(token);
      pos++;
    } else if (token.kind === ';') {
      if (words.length > 0) statements.push({ words });
      words = [];
      pos++;
    } else if (token.kind === '{') {
      if (words.length === 0) return fail('unexpected_block', token);
      const inner = parseBlock(tokens, pos + 1, token);
      if (!inner.ok) return inner;
      statements.push({ words, block: inner.value.statements });
      words = [];
      pos = inner.value.next;
    } else {
      if (last !== undefined) return missingSemicolon(last);
      if (open === undefined) return fail('unbalanced_brace', token);
      return { ok: true, value: { statements, next: pos + 1 } };
    }
  }
}
