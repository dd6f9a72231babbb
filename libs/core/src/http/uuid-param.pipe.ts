import { Injectable, PipeTransform } from '@nestjs/common';
import { ValidationProblem } from '../errors/problems';
import { isUuid } from '../validation/uuid';

/** Path ids: a malformed id is a 400 `validation_error` (problem+json), never a database error. */
@Injectable()
export class UuidParamPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !isUuid(value)) {
      throw new ValidationProblem('The id in the path is not a UUID', [
        { field: 'id', message: 'must be a UUID' },
      ]);
    }
    return value.toLowerCase();
  }
}
