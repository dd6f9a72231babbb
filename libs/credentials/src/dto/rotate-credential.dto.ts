import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Min } from 'class-validator';
import { JWK_DESCRIPTION, MAX_JWK_BYTES } from './create-credential.dto';
import { IsJsonObject, IsOptionalNotNull } from '@agentauth/core';

/** `POST /credentials/{id}/rotate`. */
export class RotateCredentialDto {
  @ApiPropertyOptional({
    minimum: 0,
    default: 0,
    description: 'How long the old key keeps working (≤ MAX_CREDENTIAL_GRACE_SECONDS).',
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  grace_period_seconds?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `Public-key credentials only (required for them): the new key. ${JWK_DESCRIPTION}`,
  })
  @IsOptionalNotNull()
  @IsJsonObject(MAX_JWK_BYTES)
  jwk?: Record<string, unknown>;
}
