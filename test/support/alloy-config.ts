/**
 * A parser for Grafana Alloy's configuration syntax (River: blocks, attributes, expressions), enough to
 * check deploy/alloy/config.alloy structurally where no `alloy` binary can be installed (it is on neither
 * the npm registry nor Debian). It follows the grammar of Alloy's docs: `name.path "label" { body }` blocks,
 * `name = expression` attributes, expressions made of string (`"..."` with escapes, `` `raw` ``), number,
 * bool and null literals, arrays, objects `{ key = value, ... }` and references `a.b.c` (with `[index]`).
 * Anything else (an unknown token, an unclosed brace, a missing comma) is a syntax error with its line.
 */

export type AlloyValue =
  string | number | boolean | null | AlloyValue[] | { [key: string]: AlloyValue } | AlloyReference;

/** An identifier path such as `loki.process.agentauth.receiver`. */
export class AlloyReference {
  constructor(readonly path: string) {}
}

export interface AlloyBlock {
  /** `loki.process`, `stage.json`, `endpoint`, ... */
  name: string;
  label?: string;
  attributes: Record<string, AlloyValue>;
  blocks: AlloyBlock[];
  line: number;
}

type Token =
  | { kind: 'ident'; value: string; line: number }
  | { kind: 'string'; value: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'punct'; value: string; line: number }
  | { kind: 'newline'; line: number }
  | { kind: 'eof'; line: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new Error(`line ${line}: ${msg}`);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      tokens.push({ kind: 'newline', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated block comment');
      line += text.slice(i, end).split('\n').length - 1;
      i = end + 2;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'ident', value: m[0], line });
      i += m[0].length;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ kind: 'number', value: Number(m[0]), line });
      i += m[0].length;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\n') fail('newline in string');
        j += text[j] === '\\' ? 2 : 1;
      }
      if (j >= text.length) fail('unterminated string');
      const literal = text.slice(i, j + 1);
      let value: string;
      try {
        // Alloy's escapes (\" \\ \n \t \r \uXXXX) are JSON's.
        value = JSON.parse(literal) as string;
      } catch {
        return fail(`bad escape in ${literal}`);
      }
      tokens.push({ kind: 'string', value, line });
      i = j + 1;
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) fail('unterminated raw string');
      const value = text.slice(i + 1, end);
      tokens.push({ kind: 'string', value, line });
      line += value.split('\n').length - 1;
      i = end + 1;
    } else if ('{}[]=,.'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, line });
      i++;
    } else {
      fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ kind: 'eof', line });
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }
  private next(): Token {
    return this.tokens[this.pos++];
  }
  private fail(msg: string, token = this.peek()): never {
    throw new Error(`line ${token.line}: ${msg}`);
  }
  private isPunct(value: string, token = this.peek()): boolean {
    return token.kind === 'punct' && token.value === value;
  }
  private expectPunct(value: string): void {
    const token = this.next();
    if (token.kind !== 'punct' || token.value !== value) this.fail(`expected "${value}"`, token);
  }
  private skipNewlines(): void {
    while (this.peek().kind === 'newline') this.pos++;
  }

  /** A body: attributes and blocks, each ended by a newline (or the closing brace / end of file). */
  body(closing: 'eof' | '}'): { attributes: Record<string, AlloyValue>; blocks: AlloyBlock[] } {
    const attributes: Record<string, AlloyValue> = {};
    const blocks: AlloyBlock[] = [];
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (closing === 'eof' ? token.kind === 'eof' : this.isPunct('}')) return { attributes, blocks };
      if (token.kind !== 'ident') this.fail('expected an attribute or a block');
      const line = token.line;
      const name = [(this.next() as { value: string }).value];
      while (this.isPunct('.')) {
        this.pos++;
        const part = this.next();
        if (part.kind !== 'ident') this.fail('expected a name after "."', part);
        name.push(part.value);
      }
      if (this.isPunct('=')) {
        if (name.length > 1) this.fail(`attribute name ${name.join('.')} has a dot`);
        this.pos++;
        if (name[0] in attributes) this.fail(`attribute ${name[0]} set twice`);
        attributes[name[0]] = this.expression();
      } else {
        let label: string | undefined;
        if (this.peek().kind === 'string') label = (this.next() as { value: string }).value;
        this.expectPunct('{');
        const inner = this.body('}');
        this.expectPunct('}');
        blocks.push({ name: name.join('.'), label, ...inner, line });
      }
      const end = this.peek();
      if (!(end.kind === 'newline' || end.kind === 'eof' || this.isPunct('}', end))) {
        this.fail('expected a newline after the statement', end);
      }
    }
  }

  private expression(): AlloyValue {
    const token = this.next();
    if (token.kind === 'string' || token.kind === 'number') return token.value;
    if (token.kind === 'ident') {
      if (token.value === 'true') return true;
      if (token.value === 'false') return false;
      if (token.value === 'null') return null;
      const path = [token.value];
      for (;;) {
        if (this.isPunct('.')) {
          this.pos++;
          const part = this.next();
          if (part.kind !== 'ident') this.fail('expected a name after "."', part);
          path.push(part.value);
        } else if (this.isPunct('[')) {
          this.pos++;
          const index = this.next();
          if (index.kind !== 'number' && index.kind !== 'string') this.fail('expected an index', index);
          this.expectPunct(']');
          path.push(`[${String(index.value)}]`);
        } else break;
      }
      if (this.peek().kind === 'punct' && (this.peek() as { value: string }).value === '(')
        this.fail('function calls are not used in this config');
      return new AlloyReference(path.join('.'));
    }
    if (token.kind === 'punct' && token.value === '[') return this.list(']', () => this.expression());
    if (token.kind === 'punct' && token.value === '{') {
      const object: Record<string, AlloyValue> = {};
      this.list('}', () => {
        const key = this.next();
        if (key.kind !== 'ident' && key.kind !== 'string') this.fail('expected an object key', key);
        if (String(key.value) in object) this.fail(`object key ${String(key.value)} set twice`, key);
        this.expectPunct('=');
        object[String(key.value)] = this.expression();
        return null;
      });
      return object;
    }
    return this.fail('expected an expression', token);
  }

  /** Comma-separated items up to `closing`; a newline before `closing` needs a trailing comma (as in Alloy). */
  private list<T>(closing: string, item: () => T): T[] {
    const items: T[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.isPunct(closing)) {
        this.pos++;
        return items;
      }
      items.push(item());
      if (this.isPunct(',')) {
        this.pos++;
        continue;
      }
      if (this.isPunct(closing)) continue;
      this.fail(`expected "," or "${closing}"`);
    }
  }
}

/** Parses an Alloy configuration into its top-level blocks (a syntax error throws with its line). */
export function parseAlloy(text: string): AlloyBlock[] {
  const parser = new Parser(tokenize(text));
  const { attributes, blocks } = parser.body('eof');
  const stray = Object.keys(attributes);
  if (stray.length) throw new Error(`top-level attributes are not allowed: ${stray.join(', ')}`);
  return blocks;
}

/** Every reference (`a.b.c`) inside a value. */
export function referencesIn(value: AlloyValue): string[] {
  if (value instanceof AlloyReference) return [value.path];
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(referencesIn);
  return [];
}
