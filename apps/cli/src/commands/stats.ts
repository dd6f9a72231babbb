import type { Command } from 'commander';
import { unwrap } from '@agentauth/sdk';
import { details } from '../output.js';
import { contextOf } from './common.js';

/** `{a: {b: 1}}` → `{'a.b': 1}`. */
export function flatten(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (v && typeof v === 'object' && !Array.isArray(v))
      Object.assign(flat, flatten(v as Record<string, unknown>, name));
    else flat[name] = v;
  }
  return flat;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('system statistics (needs the admin key)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const stats = await unwrap(ctx.admin().GET('/api/v1/stats'));
      ctx.out.result(stats, () => details(flatten(stats)));
    });
}
