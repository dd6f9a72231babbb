import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CREDENTIAL_STATUSES, type CredentialStatus } from '../credential.entity';
import { IsUuidString, PageQuery } from '@agentauth/core';

/** `GET /credentials`: credentials of the caller's subtree, masked. */
export class ListCredentialsQuery extends PageQuery {
  @ApiPropertyOptional({
    description: "Only this agent's credentials (which must be visible to the caller).",
  })
  @IsOptional()
  @IsUuidString()
  agent_id?: string;

  @ApiPropertyOptional({
    enum: CREDENTIAL_STATUSES,
    description:
      '`expired`: marked by the maintenance run (every MAINTENANCE_INTERVAL_SECONDS) once `expires_at` passed; until then such a key is listed as `active` but already refused.',
  })
  @IsOptional()
  @IsIn(CREDENTIAL_STATUSES)
  status?: CredentialStatus;
}
