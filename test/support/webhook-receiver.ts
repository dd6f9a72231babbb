import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  receivedAt: number;
  /** When the receiver finished answering (undefined while it is still answering or if the client left). */
  answeredAt?: number;
  status: number;
}

export interface Reply {
  status: number;
  delayMs?: number;
  headers?: Record<string, string>;
}

/**
 * A local HTTP endpoint on 127.0.0.1 that records every request. Replies are taken from `script` in order
 * (the last one repeats; default 200).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server?: http.Server;
  private readonly waiters: (() => void)[] = [];
  private readonly replyTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly script: Reply[] = [{ status: 200 }]) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const index = this.requests.length;
        const reply = this.script[Math.min(index, this.script.length - 1)] ?? { status: 200 };
        const record: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          rawBody: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
          status: reply.status,
        };
        this.requests.push(record);
        this.notify();
        const timer = setTimeout(() => {
          this.replyTimers.delete(timer);
          if (res.destroyed) return;
          res.writeHead(reply.status, { 'Content-Type': 'text/plain', ...reply.headers });
          res.end('receiver says hello', () => {
            record.answeredAt = Date.now();
            this.notify();
          });
        }, reply.delayMs ?? 0);
        this.replyTimers.add(timer);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Resolves once `predicate` holds (checked after every request), or fails after `timeoutMs`. */
  async waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.requests)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests)`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.replyTimers) clearTimeout(timer);
    this.replyTimers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `condition not met within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
