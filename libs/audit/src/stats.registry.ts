import { Injectable } from '@nestjs/common';

/** One section of `GET /stats`: `name` is its key in the response, `collect()` its value. */
export interface StatsContributor {
  name: string;
  collect(): Promise<Record<string, unknown>>;
}

/** Keys `/stats` fills itself. */
export const RESERVED_STATS_KEYS = ['audit_events', 'generated_at'];
const STATS_KEY = /^[a-z][a-z0-9_]*$/;

/**
 * Where each context registers its counts for `GET /stats` (in its `onModuleInit`), so the admin endpoint
 * needs no import of any other context. Expected sections: docs/audit.md "GET /stats".
 */
@Injectable()
export class StatsRegistry {
  private readonly contributors = new Map<string, StatsContributor>();

  register(contributor: StatsContributor): void {
    if (!STATS_KEY.test(contributor.name)) {
      throw new Error(`stats contributor name must be snake_case: ${contributor.name}`);
    }
    if (RESERVED_STATS_KEYS.includes(contributor.name) || this.contributors.has(contributor.name)) {
      throw new Error(`stats contributor "${contributor.name}" is already registered`);
    }
    this.contributors.set(contributor.name, contributor);
  }

  all(): readonly StatsContributor[] {
    return [...this.contributors.values()];
  }
}
