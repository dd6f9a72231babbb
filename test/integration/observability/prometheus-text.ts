import request from 'supertest';
import type { TestApp } from '../../support/app';

/** A sample of the Prometheus text exposition format: `name{label="value",...} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses a scrape; throws on any line that is neither a comment nor a well-formed sample. */
export function parsePrometheusText(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1], type[2]);
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[pair[1]] = pair[2];
    // Prometheus parses values like Go's ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
    const raw = match[3].toLowerCase();
    const value = raw === '+inf' || raw === 'inf' ? Infinity : raw === '-inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`bad sample value: ${line}`);
    samples.push({ name: match[1], labels, value });
  }
  return { samples, types };
}

/** The value of the one sample named `name` whose labels include `labels` (0 when absent). */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const matching = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matching.length > 1) {
    throw new Error(
      `${matching.length} samples of ${name} match ${JSON.stringify(labels)}: be more specific`,
    );
  }
  return matching[0]?.value ?? 0;
}

/** `GET /metrics` (with `Bearer token` when given): expects 200 in the text format, returns its samples. */
export async function scrapeMetrics(t: TestApp, token?: string): Promise<Sample[]> {
  const req = request(t.http).get('/metrics');
  if (token) req.set('Authorization', `Bearer ${token}`);
  const res = await req.expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.text).samples;
}

/** How much the sample `name{labels}` moved from one scrape to the next. */
export function movedBetween(
  before: Sample[],
  after: Sample[],
): (name: string, labels?: Record<string, string>) => number {
  return (name, labels = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
}
