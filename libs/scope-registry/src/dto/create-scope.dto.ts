import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, ValidateBy, buildMessage } from 'class-validator';
import { isValidScopeName, MAX_SCOPE_LENGTH } from '@agentauth/scopes';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text PostgreSQL can store: no NUL character, no lone surrogate. */
function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/** `POST /scopes` (CONTRACT §6). */
export class CreateScopeDto {
  @ApiProperty({
    maxLength: MAX_SCOPE_LENGTH,
    example: 'crm.contacts:read',
    description:
      'Lower-case `:`-separated segments of dot-separated words; a final `*` segment registers a wildcard. ' +
      'Not in a built-in namespace (agents, credentials, delegations, policies, scopes, tokens, webhooks).',
  })
  @ValidateBy({
    name: 'isScopeName',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isValidScopeName(value),
      defaultMessage: buildMessage(
        () => 'name must be a scope name (e.g. files:read, crm.contacts:write, files:*)',
      ),
    },
  })
  name: string;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @ValidateBy({
    name: 'isStorableText',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || isStorableText(value),
      defaultMessage: buildMessage(() => 'description must not contain NUL characters'),
    },
  })
  description?: string | null;
}
