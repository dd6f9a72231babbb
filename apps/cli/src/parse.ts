import * as fs from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './errors.js';

/** `a,b c` → ['a', 'b', 'c'] (commas or spaces). */
export function list(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

export function isoDate(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 date-time');
  return new Date(ms).toISOString();
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `15m`, `2h`, `7d` → seconds. */
export function duration(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected a duration such as 30m, 2h or 7d');
  return Number(match[1]) * UNITS[match[2]];
}

export function json(value: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('expected a JSON object');
}

export function uuid(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new InvalidArgumentError('expected a UUID');
  }
  return value.toLowerCase();
}

/** A UUID given as a positional argument (checked inside the action: a usage error, exit 2). */
export function idArgument(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new UsageError(`invalid id "${value}": expected a UUID`);
  }
  return value.toLowerCase();
}

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6): never sent to the server. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A public JWK read from a file (`-` = stdin); a private or symmetric key is refused before anything is sent. */
export function publicJwkFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON: expected a public JWK`);
  }
  if (
    !jwk ||
    typeof jwk !== 'object' ||
    Array.isArray(jwk) ||
    typeof (jwk as { kty?: unknown }).kty !== 'string'
  ) {
    throw new UsageError(`${file} is not a JWK (a JSON object with kty)`);
  }
  const secret = PRIVATE_JWK_MEMBERS.filter((member) => member in jwk);
  if (secret.length > 0) {
    throw new UsageError(
      `${file} holds a private key (${secret.join(', ')}): give the public JWK only; nothing was sent`,
    );
  }
  return jwk as Record<string, unknown>;
}
