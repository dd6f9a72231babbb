import * as fs from 'node:fs';
import * as path from 'node:path';
import { runId, workerId } from './test-env';

export const LOG_DIR = path.resolve(__dirname, '..', '..', '.jest-logs');

/**
 * The destination of every pino logger in a test process: keeps the parsed lines for assertions and
 * appends the raw lines to a file that global teardown checks (every line JSON with the required fields).
 */
class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  private readonly file = path.join(LOG_DIR, `${runId()}-${workerId()}.ndjson`);

  constructor() {
    fs.mkdirSync(LOG_DIR, { recursive: true });
  }

  write(chunk: string): boolean {
    for (const line of chunk.split('\n')) {
      if (!line) continue;
      this.raw.push(line);
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ unparseable: line });
      }
    }
    fs.appendFileSync(this.file, chunk.endsWith('\n') ? chunk : `${chunk}\n`);
    return true;
  }

  /** Lines logged for one request id. */
  forRequest(requestId: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.request_id === requestId);
  }

  /** Every raw line that contains `needle` (secret-leak checks). */
  containing(needle: string): string[] {
    return this.raw.filter((l) => l.includes(needle));
  }
}

export const logCapture = new LogCapture();
