/**
 * Action/resource globs: `*` matches any run of characters (`:` and `/` included, possibly empty); every
 * other character is literal, regex metacharacters included (`a.b`, `(x)`, `[y]`, `^$+?{}|\` match
 * themselves).
 *
 * Compiled once into literal chunks instead of a RegExp: a backtracking RegExp for a glob with k stars
 * (`^a.*a.*a.*b$`) costs O(n^k) on a non-matching input, so any tenant able to write a policy could make
 * every decision of its tree burn CPU (ReDoS). Matching chunks with a prefix test, a suffix test and greedy
 * leftmost `indexOf` for the middle chunks is exact for `*`-only globs and worst-case O(n·m), with no
 * allocation per call.
 */
export class GlobMatcher {
  /** `*` alone (after collapsing runs of stars): matches everything. */
  readonly matchesAll: boolean;
  /** No star: the glob is one literal. */
  readonly literal: string | null;
  /** Text before the first star (the whole literal when there is none). */
  readonly head: string;
  /** Text after the last star ('' when there is none). */
  readonly tail: string;
  private readonly middle: readonly string[];
  private readonly minLength: number;

  constructor(readonly source: string) {
    const chunks = source.replace(/\*+/g, '*').split('*');
    this.literal = chunks.length === 1 ? chunks[0] : null;
    this.head = chunks[0];
    this.tail = chunks.length > 1 ? chunks[chunks.length - 1] : '';
    this.middle = chunks.slice(1, -1);
    this.minLength = chunks.reduce((n, c) => n + c.length, 0);
    this.matchesAll = chunks.length === 2 && this.minLength === 0;
  }

  /** Does the glob match `value` exactly (as a whole)? */
  matches(value: string): boolean {
    if (this.matchesAll) return true;
    if (this.literal !== null) return value === this.literal;
    if (value.length < this.minLength) return false;
    if (!value.startsWith(this.head) || !value.endsWith(this.tail)) return false;
    let position = this.head.length;
    const end = value.length - this.tail.length;
    for (const chunk of this.middle) {
      const at = value.indexOf(chunk, position);
      if (at < 0 || at + chunk.length > end) return false;
      position = at + chunk.length;
    }
    return true;
  }

  /**
   * Does the glob match at least one string `prefix + x` with `x.length >= minExtra`? Used for an open input
   * (`files:*` stands for every `files:<x>`): a deny matches an open input as soon as it could match one of
   * the values it stands for.
   *
   * Without a star the literal must extend the prefix. With a star, the first chunk and the prefix must be
   * prefix-comparable: if the prefix starts with the head, the first star absorbs the rest of the prefix and
   * the remaining chunks (plus one character for that star if needed) form `x`; if the head starts with the
   * prefix, the rest of the head and the later chunks do; otherwise the first characters already differ.
   */
  matchesSomeExtension(prefix: string, minExtra: 0 | 1): boolean {
    if (this.literal !== null) {
      return this.literal.length >= prefix.length + minExtra && this.literal.startsWith(prefix);
    }
    return prefix.startsWith(this.head) || this.head.startsWith(prefix);
  }
}
