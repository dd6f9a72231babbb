import { applyDecorators } from '@nestjs/common';
import {
  ArrayMaxSize,
  buildMessage,
  IsArray,
  IsIn,
  IsString,
  MaxLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { IsOptionalNotNull } from '@agentauth/core';
import { CLIENT_TYPES, MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS } from '../redirect-uris';

/** Input limits of agent fields (also CHECK constraints in the table where they are structural). */
export const AGENT_LIMITS = {
  name: 200,
  description: 2000,
  version: 100,
  capabilities: 50,
  capability: 100,
  scopes: 100,
} as const;

/**
 * Metadata keys that name a governed setting. `rate_limit_per_minute` was once read from metadata, which an
 * agent may write on itself; it is now the governed field of the same name, and refused inside metadata so
 * that nobody mistakes one for the other.
 */
export const RESERVED_METADATA_KEYS = ['rate_limit_per_minute'] as const;

/** An object without any of `RESERVED_METADATA_KEYS` at its top level. */
export const HasNoReservedMetadataKey = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'hasNoReservedMetadataKey',
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'object' ||
          value === null ||
          !RESERVED_METADATA_KEYS.some((key) => Object.prototype.hasOwnProperty.call(value, key)),
        defaultMessage: buildMessage(
          (each) =>
            `${each}$property must not hold ${RESERVED_METADATA_KEYS.join(', ')}: it is a governed field of the agent (set by a strict ancestor), not metadata`,
          options,
        ),
      },
    },
    options,
  );

/** CONTRACT §11: `client_type` at creation and update (absent: unchanged; `null` refused). */
export const IsClientType = (): PropertyDecorator =>
  applyDecorators(IsOptionalNotNull(), IsIn([...CLIENT_TYPES]));

/**
 * CONTRACT §11: the shape of `redirect_uris` at creation and update. Each URI's own rules (scheme, host,
 * fragment) are `redirectUriProblem`'s, applied by the service so that every entry is named in one 400.
 */
export const IsRedirectUriList = (): PropertyDecorator =>
  applyDecorators(
    IsOptionalNotNull(),
    IsArray(),
    ArrayMaxSize(MAX_REDIRECT_URIS),
    IsString({ each: true }),
    MaxLength(MAX_REDIRECT_URI_LENGTH, { each: true }),
  );
