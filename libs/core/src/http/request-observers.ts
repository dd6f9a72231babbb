import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';

/** A finished HTTP request, as the access log saw it (the same route pattern, status and timing). */
export interface CompletedRequest {
  method: string;
  /** The matched route pattern (e.g. `/api/v1/agents/:id`), or `unmatched`: never the raw path. */
  route: string;
  status: number;
  durationMs: number;
  req: Request;
  res: Response;
}

export type RequestObserver = (request: CompletedRequest) => void;

/**
 * Listeners told about every finished request by the access-log middleware, which runs first of all
 * middlewares and so sees every answer (guard rejections, body-parser errors, 404s). Metrics subscribe
 * here instead of timing requests a second time. Observers must be cheap and must not throw.
 */
@Injectable()
export class RequestObservers {
  private readonly observers: RequestObserver[] = [];

  add(observer: RequestObserver): () => void {
    this.observers.push(observer);
    return () => {
      const index = this.observers.indexOf(observer);
      if (index >= 0) this.observers.splice(index, 1);
    };
  }

  notify(request: CompletedRequest): void {
    for (const observer of this.observers) {
      try {
        observer(request);
      } catch {
        // An observer's failure must never break the response or the access log.
      }
    }
  }
}
