import { Injectable, PipeTransform } from '@nestjs/common';
import { ValidationProblem } from '../errors/problems';

/** Any RFC 9562 UUID (the database type accepts every version). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids: a malformed id is a 400 `validation_error` (problem+json), never a database error. */
@Injectable()
export class UuidParamPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !UUID_PATTERN.test(value)) {
      throw new ValidationProblem('The id in the path is not a UUID', [
        { field: 'id', message: 'must be a UUID' },
      ]);
    }
    return value.toLowerCase();
  }
}
