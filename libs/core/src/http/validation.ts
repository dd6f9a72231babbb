import { ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { FieldError, ValidationProblem } from '../errors/problems';

/** The properties a DTO declares (its class-validator metadata): the names a client may send. */
function declaredProperties(target: unknown): string[] {
  if (!target || typeof target !== 'object') return [];
  const metadata = getMetadataStorage().getTargetValidationMetadatas(target.constructor, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * The declared property an unknown one was probably meant to be: `scopes` → `allowed_scopes`, `expires` →
 * `expires_at` (a declared name made of it and another word), `nmae` → `name` (a typo), else none.
 */
export function closestProperty(unknown: string, declared: string[]): string | undefined {
  const name = unknown.toLowerCase();
  if (name.length < 4) return undefined; // `id`, `key`: too short to guess from
  return (
    declared.find((d) => d.endsWith(`_${name}`) || d.startsWith(`${name}_`)) ??
    declared.find((d) => editDistance(d, name) <= 2)
  );
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => {
      // An unknown property (forbidNonWhitelisted) that is close to a declared one: say which.
      const meant =
        constraint === 'whitelistValidation'
          ? closestProperty(error.property, declaredProperties(error.target))
          : undefined;
      return { field, message: meant ? `${message} (did you mean ${meant}?)` : message };
    });
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Validation at the edge: unknown properties are refused, not silently dropped (mass assignment). */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    // `target` (the DTO instance) names the declared properties for "did you mean"; never sent to clients.
    validationError: { target: true, value: false },
    exceptionFactory: (errors) => new ValidationProblem('The request is invalid', flatten(errors)),
  });
}
