import { parser } from '@grafana/lezer-logql';

/** What a LogQL query reads, found by walking Grafana's own LogQL syntax tree (@grafana/lezer-logql). */
export interface LogQLAnalysis {
  /** Syntax errors (lezer error nodes) and stages this analysis does not understand. */
  errors: string[];
  /** `{label op "value"}` of the stream selectors. */
  streamMatchers: { label: string; op: string; value: string }[];
  /** Line filters (`|= "text"`, `|~ "re"`, ...). */
  lineFilters: { op: string; value: string }[];
  /** `| json` without parameters: every field of the line becomes a label. */
  bareJson: boolean;
  /** `| json label="path"` parameters. */
  jsonFields: { label: string; path: string }[];
  /** Label filters after the parser (`| status >= 400`, `| msg="..."`, `| __error__=""`). */
  labelFilters: { label: string; op: string; value: string }[];
  /** `| unwrap field`. */
  unwrapFields: string[];
  /** Labels of every `by (...)` / `without (...)`. */
  groupings: string[];
}

/** Stages whose field use this analysis cannot see (templates, other parsers): refused so nothing hides. */
const UNSUPPORTED = new Set([
  'LogfmtParser',
  'LogfmtExpressionParser',
  'LineFormatExpr',
  'LabelFormatExpr',
  'DropLabelsExpr',
  'KeepLabelsExpr',
]);

function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return JSON.parse(literal) as string;
}

/** Grafana-style interpolation of the dashboard's variables before a query is parsed (Grafana does the same). */
export function interpolateGrafanaVariables(expr: string, variables: Record<string, string>): string {
  const builtIns: Record<string, string> = {
    __auto: '1m',
    __interval: '1m',
    __rate_interval: '1m',
    __range: '1h',
  };
  const all = { ...builtIns, ...variables };
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (match, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      if (!(name in all)) throw new Error(`unknown Grafana variable ${match} in ${expr}`);
      return all[name];
    },
  );
}

export function analyzeLogQL(query: string): LogQLAnalysis {
  const result: LogQLAnalysis = {
    errors: [],
    streamMatchers: [],
    lineFilters: [],
    bareJson: false,
    jsonFields: [],
    labelFilters: [],
    unwrapFields: [],
    groupings: [],
  };
  const tree = parser.parse(query);
  const text = (from: number, to: number) => query.slice(from, to);
  const stack: string[] = [];
  tree.iterate({
    enter: (ref) => {
      const name = ref.type.name;
      const node = ref.node;
      if (ref.type.isError) {
        result.errors.push(
          `syntax error at ${ref.from}: …${text(Math.max(0, ref.from - 20), ref.from + 20)}…`,
        );
      }
      if (UNSUPPORTED.has(name)) result.errors.push(`stage not analysed by this test: ${name}`);
      const child = (type: string) => node.getChild(type);
      if (name === 'Matcher') {
        const label = child('Identifier');
        const value = child('String');
        const op = label?.nextSibling;
        if (label && value && op) {
          const matcher = {
            label: text(label.from, label.to),
            op: text(op.from, op.to),
            value: unquote(text(value.from, value.to)),
          };
          if (stack.includes('Selector')) result.streamMatchers.push(matcher);
          else if (stack.includes('LabelFilter')) result.labelFilters.push(matcher);
          else result.errors.push(`matcher outside a selector or label filter: ${text(ref.from, ref.to)}`);
        }
      }
      if (['NumberFilter', 'DurationFilter', 'BytesFilter', 'IpLabelFilter'].includes(name)) {
        const label = child('Identifier');
        const op = label?.nextSibling;
        if (label && op) {
          result.labelFilters.push({
            label: text(label.from, label.to),
            op: text(op.from, op.to),
            value: text(op.to, ref.to).trim(),
          });
        }
      }
      if (name === 'LineFilter') {
        const filter = child('Filter');
        const value = child('String');
        if (filter && value) {
          result.lineFilters.push({
            op: text(filter.from, filter.to),
            value: unquote(text(value.from, value.to)),
          });
        } else {
          result.errors.push(`line filter not understood: ${text(ref.from, ref.to)}`);
        }
      }
      if (name === 'LabelParser') {
        const parserName = text(ref.from, ref.to).trim();
        if (parserName === 'json') result.bareJson = true;
        else result.errors.push(`parser not analysed by this test: ${parserName}`);
      }
      if (name === 'LabelExtractionExpression' && stack.includes('JsonExpressionParser')) {
        const label = child('Identifier');
        const path = child('String');
        if (label) {
          const labelName = text(label.from, label.to);
          result.jsonFields.push({
            label: labelName,
            path: path ? unquote(text(path.from, path.to)) : labelName,
          });
        }
      }
      if (name === 'UnwrapExpr' && !stack.includes('UnwrapExpr')) {
        // `| unwrap field` (the outermost UnwrapExpr also holds the filters after it, found as LabelFilter).
        let inner = node;
        while (inner.getChild('UnwrapExpr')) inner = inner.getChild('UnwrapExpr')!;
        const field = inner.getChild('Identifier');
        if (field) result.unwrapFields.push(text(field.from, field.to));
        else result.errors.push(`unwrap not understood: ${text(ref.from, ref.to)}`);
      }
      if (name === 'Identifier' && stack.at(-1) === 'Labels' && stack.includes('Grouping')) {
        result.groupings.push(text(ref.from, ref.to));
      }
      stack.push(name);
    },
    leave: () => {
      stack.pop();
    },
  });
  return result;
}

/** A matcher that compares a label with literal values (range comparisons such as `> 1000` are not). */
export interface ValueMatcher {
  label: string;
  op: '=' | '==' | '!=' | '=~' | '!~';
  value: string;
  /** In the stream selector (a Promtail label) rather than a label filter after the parser. */
  inSelector: boolean;
  /** The value as a regex (`=~`, `!~`), else the literal. */
  regex: boolean;
  /** The top-level alternatives of a regex (`a|b(c|d)` → `a`, `b(c|d)`); the literal alone otherwise. */
  alternatives: string[];
}

const VALUE_OPS = new Set(['=', '==', '!=', '=~', '!~']);

/** Every equality / regex matcher of the query, stream selector first, each with its alternatives. */
export function valueMatchers(analysis: LogQLAnalysis): ValueMatcher[] {
  const matchers = [
    ...analysis.streamMatchers.map((m) => ({ ...m, inSelector: true })),
    ...analysis.labelFilters.map((m) => ({ ...m, inSelector: false })),
  ];
  return matchers
    .filter((m) => VALUE_OPS.has(m.op))
    .map((m) => {
      const regex = m.op === '=~' || m.op === '!~';
      return {
        ...m,
        op: m.op as ValueMatcher['op'],
        regex,
        alternatives: regex ? regexAlternatives(m.value) : [m.value],
      };
    });
}

/** Splits a regex at its top-level `|` (not inside a group, a character class or after a backslash). */
export function regexAlternatives(pattern: string): string[] {
  const alternatives: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      alternatives.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  alternatives.push(pattern.slice(start));
  return alternatives;
}

/** Whether `alternative` (a regex when `regex`, anchored like Loki's matchers) matches one of `values`. */
export function matchesAny(alternative: string, regex: boolean, values: readonly string[]): boolean {
  if (!regex) return values.includes(alternative);
  const re = new RegExp(`^(?:${alternative})$`);
  return values.some((v) => re.test(v));
}

/** The fenced ```logql blocks of a Markdown document, one query each. */
export function logqlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```logql\n([\s\S]*?)```/g)].map((m) => m[1].trim());
}
