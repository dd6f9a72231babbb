/** A column of a table: its header and how to read the cell from a row. */
export type Column<T> = string | [header: string, cell: (row: T) => unknown];

function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map((v) => cellText(v)).join(',');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${value}`;
  return JSON.stringify(value) ?? '-';
}

/** A plain-text table: a header row, then one row per item, columns padded to their widest cell. */
export function table<T extends object>(rows: T[], columns: Column<T>[]): string {
  const specs = columns.map((c) =>
    typeof c === 'string'
      ? { header: c.toUpperCase(), cell: (row: T) => (row as Record<string, unknown>)[c] }
      : { header: c[0].toUpperCase(), cell: c[1] },
  );
  const cells = rows.map((row) => specs.map((s) => cellText(s.cell(row))));
  const widths = specs.map((s, i) => Math.max(s.header.length, ...cells.map((r) => r[i].length)));
  const format = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [format(specs.map((s) => s.header)), ...cells.map(format)].join('\n');
}

/** Key/value lines for one object (`name   value`). */
export function details(record: Record<string, unknown>, keys?: string[]): string {
  const names = keys ?? Object.keys(record);
  const width = Math.max(...names.map((k) => k.length));
  return names.map((k) => `${k.padEnd(width)}  ${cellText(record[k])}`).join('\n');
}

/** The record without its secret fields, unless the caller asked for them (`--show-secrets`). */
export function redact<T extends object>(record: T, secretFields: string[], show: boolean): T {
  if (show) return record;
  const copy: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const field of secretFields) delete copy[field];
  return copy as T;
}

export interface Output {
  readonly json: boolean;
  readonly showSecrets: boolean;
  /** Prints `value` as JSON in --json mode, else the human rendering. */
  result(value: unknown, human: () => string): void;
  /** A line on stdout (human mode only). */
  info(text: string): void;
  /** A line on stderr. */
  warn(text: string): void;
}

export function createOutput(json: boolean, showSecrets: boolean): Output {
  return {
    json,
    showSecrets,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    info(text) {
      if (!json) process.stdout.write(`${text}\n`);
    },
    warn(text) {
      process.stderr.write(`${text}\n`);
    },
  };
}
