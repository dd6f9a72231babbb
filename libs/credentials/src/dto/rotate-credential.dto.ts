import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Min } from 'class-validator';
import { IsOptionalNotNull } from '@agentauth/agents';

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
}
