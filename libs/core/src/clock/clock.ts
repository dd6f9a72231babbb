import { Injectable } from '@nestjs/common';

/**
 * The one source of "now". Everything time-dependent (expiry, grace periods, time windows, key
 * rotation) asks it, so tests move time instead of sleeping.
 */
@Injectable()
export class Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Test hook: shifts this process's clock. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
