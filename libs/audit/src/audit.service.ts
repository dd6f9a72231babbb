import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Link, Span } from '@opentelemetry/api';
import {
  activeSpanLink,
  Clock,
  inSpan,
  pgErrorCode,
  ServiceUnavailableProblem,
  setSpanAttributes,
} from '@agentauth/core';
import {
  type ChainRange,
  type ChainVerification,
  type RecordedAuditEvent,
  type PendingAuditEvent,
  verifyChain,
} from './audit-chain';
import type { AuditEventInput } from './audit-event';
import { AuditRepository } from './audit.repository';
import { prepareAuditEvent } from './audit-sanitizer';
import { GroupCommitQueue } from './group-commit-queue';

/** Tuning of the group-commit writer (defaults in `DEFAULT_AUDIT_OPTIONS`). */
export interface AuditOptions {
  /** A batch is written as soon as this many events are queued… */
  maxBatchSize: number;
  /** …or when the oldest queued event has waited this long (ms). */
  maxDelayMs: number;
  /** Events waiting beyond which `record` fails at once with 503 (the database is not keeping up). */
  maxPending: number;
  /** Waits before each retry of a batch that failed for a transient reason (one entry per retry). */
  retryDelaysMs: number[];
}

export const DEFAULT_AUDIT_OPTIONS: AuditOptions = {
  maxBatchSize: 100,
  maxDelayMs: 3,
  maxPending: 10_000,
  retryDelaysMs: [20, 100],
};

export const AUDIT_OPTIONS = Symbol('AUDIT_OPTIONS');

/** SQLSTATEs worth retrying: serialization/deadlock, lock timeout, cancellation, shutdown, a racing seq. */
const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  '55P03',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '23505',
]);

/**
 * A failure that a new attempt may not meet: a lost connection (no SQLSTATE, or a Node errno such as
 * `ECONNRESET`/`EPIPE` — no SQLSTATE class starts with `E`) or a transient SQLSTATE.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const code = pgErrorCode(error) ?? (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code)) {
    return code.startsWith('08') || TRANSIENT_SQLSTATES.has(code);
  }
  return true;
}

interface QueuedEvent {
  event: PendingAuditEvent;
  recorded?: RecordedAuditEvent;
  /** The `audit.record` span waiting for this event (tracing on): the batch's span links to it. */
  waiting?: Link;
}

type Unsubscribe = () => void;

/**
 * The one way events are recorded (docs/audit.md). `record` resolves once the event is durably committed
 * as part of a group-committed batch that extends the hash chain; it rejects (503 problem) when its batch
 * could not be written.
 */
@Injectable()
export class AuditService implements OnModuleDestroy {
  private readonly queue: GroupCommitQueue<QueuedEvent>;
  private readonly recordedListeners = new Set<(event: RecordedAuditEvent) => void>();
  private readonly batchListeners = new Set<(size: number) => void>();

  constructor(
    private readonly repository: AuditRepository,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
  ) {
    this.logger.setContext('AuditService');
    this.queue = new GroupCommitQueue((batch) => this.flush(batch), {
      maxBatchSize: options.maxBatchSize,
      maxDelayMs: options.maxDelayMs,
      maxPending: options.maxPending,
    });
  }

  async record(input: AuditEventInput): Promise<void> {
    const event = prepareAuditEvent(input, randomUUID(), this.clock.now(), (key) =>
      this.logger.warn(
        { event_type: input.eventType, details_key: key },
        'audit details key dropped (named like a secret)',
      ),
    );
    const queued: QueuedEvent = { event };
    try {
      // The request's wait for the group commit that carries its event (a span when tracing is on).
      await inSpan('audit.record', { attributes: { 'audit.event_type': event.eventType } }, () => {
        queued.waiting = activeSpanLink();
        return this.queue.enqueue(queued);
      });
    } catch (error) {
      // The act is not in the trail: the log keeps what is known of it, and the caller must not succeed.
      this.logger.error({ ...this.logFields(event), err: errorSummary(error) }, 'audit event not recorded');
      throw new ServiceUnavailableProblem('The audit trail is unavailable; the request was not completed');
    }
    const recorded = queued.recorded as RecordedAuditEvent;
    this.logger.info(
      { ...this.logFields(event), audit_event_id: recorded.id, seq: recorded.seq },
      'audit event',
    );
    for (const listener of this.recordedListeners) {
      try {
        listener(recorded);
      } catch (error) {
        this.logger.error({ err: errorSummary(error) }, 'audit onRecorded listener failed');
      }
    }
  }

  /**
   * Records several events in order (a cascade's: one per object it changed) and resolves once every one
   * is committed; rejects like `record` as soon as one could not be (the later ones are then not queued).
   * They are queued `maxBatchSize` at a time, so a cascade of any size fills group-commit batches (one
   * statement each) without ever pushing the queue towards its back-pressure limit.
   */
  async recordAll(inputs: readonly AuditEventInput[]): Promise<void> {
    for (let start = 0; start < inputs.length; start += this.options.maxBatchSize) {
      const slice = inputs.slice(start, start + this.options.maxBatchSize);
      await Promise.all(slice.map((input) => this.record(input)));
    }
  }

  /**
   * How many `eventType` events succeeded, in total and since `since` (the trail is the one record of
   * them: e.g. `token.issued` for the token counts of `GET /stats`).
   */
  successCounts(eventType: string, since: Date): Promise<{ total: number; sinceCount: number }> {
    return this.repository.successCounts(eventType, since);
  }

  /** In-process subscribers (webhooks, metrics) hear every committed event. */
  onRecorded(listener: (event: RecordedAuditEvent) => void): Unsubscribe {
    this.recordedListeners.add(listener);
    return () => this.recordedListeners.delete(listener);
  }

  /** Hears the size of every committed batch (metrics). */
  onBatchCommitted(listener: (size: number) => void): Unsubscribe {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  /** Walks the whole chain (or `range` of it) page by page; names the first broken event. */
  verifyChain(pageSize = 1000, range: ChainRange = {}): Promise<ChainVerification> {
    return verifyChain((afterSeq, limit) => this.repository.chainPage(afterSeq, limit), pageSize, range);
  }

  /** Graceful shutdown: every queued event is written before the database pool closes. */
  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }

  /**
   * One group commit. Its span is a child of whichever request's context started the batch and links to
   * the `audit.record` span of every event it carries (they may belong to other traces).
   */
  private flush(batch: QueuedEvent[]): Promise<void> {
    const links = batch.flatMap((q) => (q.waiting ? [q.waiting] : []));
    return inSpan('audit.group_commit', { attributes: { 'audit.batch_size': batch.length }, links }, (span) =>
      this.flushBatch(batch, span),
    );
  }

  private async flushBatch(batch: QueuedEvent[], span?: Span): Promise<void> {
    const events = batch.map((q) => q.event);
    for (let attempt = 0; ; attempt++) {
      setSpanAttributes(span, { 'audit.attempt': attempt + 1 });
      try {
        const recorded = await this.repository.appendBatch(events);
        recorded.forEach((r, i) => (batch[i].recorded = r));
        break;
      } catch (error) {
        const delay = this.options.retryDelaysMs[attempt];
        const retry = delay !== undefined && isTransientDatabaseError(error);
        this.logger.error(
          { batch_size: batch.length, attempt: attempt + 1, will_retry: retry, err: errorSummary(error) },
          'audit batch failed',
        );
        if (!retry) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    for (const listener of this.batchListeners) {
      try {
        listener(batch.length);
      } catch (error) {
        this.logger.error({ err: errorSummary(error) }, 'audit onBatchCommitted listener failed');
      }
    }
  }

  /** The fields of the `audit event` log line (the Grafana dashboard reads them). */
  private logFields(event: PendingAuditEvent) {
    return {
      event_type: event.eventType,
      outcome: event.outcome,
      actor_agent_id: event.actorAgentId,
      root_agent_id: event.rootAgentId,
      target_type: event.targetType,
      target_id: event.targetId,
    };
  }
}

function errorSummary(error: unknown): { type: string; message: string; code?: string } {
  const err = error instanceof Error ? error : new Error(String(error));
  return { type: err.name, message: err.message, code: pgErrorCode(error) };
}
