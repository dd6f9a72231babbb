import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ValidationProblem } from '../errors/problems';
import { isUuid } from '../validation/uuid';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** `?limit=&cursor=` of every list endpoint (CONTRACT §1). */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: "Opaque cursor from the previous page's `next_cursor`." })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Keyset position: the (created_at, id) of the last row of the previous page. */
export interface Keyset {
  createdAt: Date;
  id: string;
}

export function encodeCursor(keyset: Keyset): string {
  return Buffer.from(JSON.stringify({ t: keyset.createdAt.toISOString(), i: keyset.id })).toString(
    'base64url',
  );
}

const invalidCursor = () =>
  new ValidationProblem('The cursor is invalid', [
    { field: 'cursor', message: 'not a cursor this API issued' },
  ]);

/** Decodes a cursor strictly: anything but what `encodeCursor` produced is a 400. */
export function decodeCursor(cursor: string): Keyset {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidCursor();
  const { t, i } = parsed as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || typeof i !== 'string' || !isUuid(i)) throw invalidCursor();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(t)) throw invalidCursor();
  const createdAt = new Date(t);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) throw invalidCursor();
  return { createdAt, id: i.toLowerCase() };
}

/** Turns `limit + 1` fetched rows into a page with the cursor of its last row. */
export function toPage<R extends { createdAt: Date; id: string }, T>(
  rows: R[],
  limit: number,
  view: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(view),
    next_cursor: more && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
  };
}

/**
 * Runs a list query as one keyset page: rows after `after` in (created_at, id) order, `limit + 1` of them
 * so `toPage` can tell whether another page follows. Every list endpoint pages the same way.
 */
export function fetchKeysetPage<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  after: Keyset | undefined,
  limit: number,
): Promise<T[]> {
  const alias = qb.alias;
  if (after) {
    qb.andWhere(`(${alias}.created_at, ${alias}.id) > (:afterCreatedAt, :afterId)`, {
      afterCreatedAt: after.createdAt,
      afterId: after.id,
    });
  }
  return qb
    .orderBy(`${alias}.created_at`, 'ASC')
    .addOrderBy(`${alias}.id`, 'ASC')
    .limit(limit + 1)
    .getMany();
}
