import { ValidateBy, ValidateIf, type ValidationOptions, buildMessage } from 'class-validator';
import { isValidScopeName } from '@agentauth/scopes';
import { isUuid } from './uuid';

/**
 * The generic class-validator decorators of every context's DTOs (text PostgreSQL can store, timestamps,
 * UUIDs, scope names, bounded JSON objects). A rule specific to one context (e.g. the agents' reserved
 * metadata keys) stays in that context's `dto/`.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Well-formed UTF-16 (no lone surrogate): what UTF-8 text and jsonb can hold. */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/**
 * Optional, but `null` is not a value: `undefined` skips validation, `null` is validated (and refused by
 * the type check that follows). `@IsOptional` would let `null` through to a NOT NULL column.
 */
export const IsOptionalNotNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

/** A lower-case scope name of the scope grammar (`files:read`, `crm.contacts:*`). */
export const IsScopeName = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isScopeName',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isValidScopeName(value),
        defaultMessage: buildMessage((each) => `${each}$property must hold valid scope names`, options),
      },
    },
    options,
  );

/** A UUID string of any version. */
export const IsUuidString = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isUuidString',
      validator: {
        validate: (value: unknown) => isUuid(value),
        defaultMessage: buildMessage((each) => `${each}$property must be a UUID`, options),
      },
    },
    options,
  );

/** Text PostgreSQL can store: no NUL character, no lone surrogate. */
export const HasNoNul = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'hasNoNul',
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'string' || (!value.includes('\u0000') && isWellFormed(value)),
        defaultMessage: buildMessage((each) => `${each}$property must not contain NUL characters`, options),
      },
    },
    options,
  );

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)$/;

/** Parses an ISO 8601 timestamp with an explicit offset; undefined when invalid (e.g. 2026-02-30). */
export function parseTimestamp(value: string): Date | undefined {
  if (!TIMESTAMP.test(value)) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  // Date normalizes impossible days (Feb 30 → Mar 2); compare the calendar date it read back.
  const probe = new Date(Date.UTC(y, m - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d)
    return undefined;
  if (y < 1970 || y > 9999) return undefined;
  return date;
}

/** An ISO 8601 timestamp with `Z` or an offset (`2026-01-02T03:04:05.000Z`). */
export const IsTimestamp = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseTimestamp(value) !== undefined,
        defaultMessage: buildMessage(
          (each) =>
            `${each}$property must be an ISO 8601 timestamp with a time zone (e.g. 2026-01-02T03:04:05Z)`,
          options,
        ),
      },
    },
    options,
  );

export const MAX_METADATA_BYTES = 16 * 1024;

export const MAX_METADATA_DEPTH = 16;

/** Every string (keys included) storable by PostgreSQL text/jsonb: well-formed UTF-16, no NUL; bounded depth. */
function isStorableJson(value: unknown, depth: number): boolean {
  if (depth > MAX_METADATA_DEPTH) return false;
  if (typeof value === 'string') return isWellFormed(value) && !value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every((v) => isStorableJson(v, depth + 1));
  return Object.entries(value).every(([k, v]) => isStorableJson(k, depth) && isStorableJson(v, depth + 1));
}

/**
 * A JSON object (not an array) of at most `maxBytes` serialized and `MAX_METADATA_DEPTH` levels, whose
 * strings jsonb can store (no NUL, no lone surrogate).
 */
export const IsJsonObject = (maxBytes = MAX_METADATA_BYTES, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isJsonObject',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          if (!isStorableJson(value, 0)) return false;
          return Buffer.byteLength(JSON.stringify(value), 'utf8') <= maxBytes;
        },
        defaultMessage: buildMessage(
          (each) =>
            `${each}$property must be a JSON object of at most ${maxBytes} bytes and ${MAX_METADATA_DEPTH} levels`,
          options,
        ),
      },
    },
    options,
  );
