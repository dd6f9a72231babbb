import { Injectable } from '@nestjs/common';

/** A backend or state `/ready` waits for; `check` resolves to `true` when ready or a reason when not. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<true | string>;
}

/** Contexts register what must be true before the process takes traffic (e.g. revocation state loaded). */
@Injectable()
export class ReadinessRegistry {
  private readonly checks: ReadinessCheck[] = [];

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  all(): readonly ReadinessCheck[] {
    return this.checks;
  }
}
