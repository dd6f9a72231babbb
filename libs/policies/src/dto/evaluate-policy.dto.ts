import { isIP } from 'node:net';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  buildMessage,
  IsInt,
  IsObject,
  IsOptional,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { normalizeIp, IsOptionalNotNull, IsScopeName, IsTimestamp, IsUuidString } from '@agentauth/core';
import { POLICY_LIMITS } from '../evaluation/policy-validation';

const RESOURCE_CHARS = /^[\x21-\x7e]+$/;

export class EvaluationContextDto {
  @ApiPropertyOptional({
    description:
      'Client IP to decide for (IPv4 or IPv6). Absent: unknown (an ip_cidrs condition then holds for a deny and fails for an allow).',
    example: '203.0.113.7',
  })
  @IsOptionalNotNull()
  @ValidateBy({
    name: 'isIpAddress',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isIP(normalizeIp(value)) !== 0,
      defaultMessage: buildMessage(() => 'ip must be an IPv4 or IPv6 address'),
    },
  })
  ip?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'The instant to decide for. Default: now.' })
  @IsOptionalNotNull()
  @IsTimestamp()
  time?: string;

  @ApiPropertyOptional({ minimum: 0, description: 'Length of the delegation chain. Default 0.' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(POLICY_LIMITS.maxDelegationDepth)
  delegation_depth?: number;
}

/** `POST /policies/evaluate` (CONTRACT §6). */
export class EvaluatePolicyDto {
  @ApiProperty({ format: 'uuid', description: "An agent of the caller's subtree." })
  @IsUuidString()
  agent_id: string;

  @ApiProperty({
    example: 'files:delete',
    description: 'A scope name (a wildcard stands for every scope below it).',
  })
  @IsScopeName()
  action: string;

  @ApiPropertyOptional({ example: 'https://files.example.com', description: 'Default `*`.' })
  @IsOptionalNotNull()
  @ValidateBy({
    name: 'isResource',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && value.length <= POLICY_LIMITS.globLength && RESOURCE_CHARS.test(value),
      defaultMessage: buildMessage(
        () => `resource must be 1–${POLICY_LIMITS.globLength} printable ASCII characters without spaces`,
      ),
    },
  })
  resource?: string;

  @ApiPropertyOptional({ type: EvaluationContextDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => EvaluationContextDto)
  context?: EvaluationContextDto;
}
