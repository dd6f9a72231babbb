import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString } from 'class-validator';
import { POLICY_EFFECTS, type PolicyConditions, type PolicyEffect } from '../evaluation/policy.types';
import { POLICY_LIMITS } from '../evaluation/policy-validation';

const CONDITIONS_DOC = {
  type: 'object',
  description:
    'All given conditions must hold. `ip_cidrs`: IPv4/IPv6 addresses or CIDRs; `time_window`: ' +
    '`{start: "HH:MM", end: "HH:MM", timezone: IANA name, days?: ["mon", …]}` (start inclusive, end exclusive, ' +
    'start > end crosses midnight); `max_delegation_depth`: non-negative integer.',
  example: {
    ip_cidrs: ['10.0.0.0/8', '2001:db8::/32'],
    time_window: { start: '08:00', end: '18:00', timezone: 'Europe/Berlin', days: ['mon', 'tue'] },
    max_delegation_depth: 2,
  },
  additionalProperties: false,
} as const;

/**
 * The fields of a policy body. Types are checked here; grammar and bounds (subject forms, globs, CIDRs,
 * HH:MM, IANA zones, weekdays, …) by `validatePolicyInput`, which the service runs on every body.
 */
export class CreatePolicyDto {
  @ApiProperty({ maxLength: POLICY_LIMITS.nameLength, example: 'no deletes at night' })
  @IsString()
  name: string;

  @ApiPropertyOptional({ maxLength: POLICY_LIMITS.descriptionLength, nullable: true })
  @IsOptional()
  @IsString()
  description?: string | null;

  @ApiProperty({ enum: POLICY_EFFECTS })
  @IsIn(POLICY_EFFECTS as PolicyEffect[])
  effect: PolicyEffect;

  @ApiProperty({
    type: [String],
    maxItems: POLICY_LIMITS.listItems,
    description:
      "Agent ids, `agent:<id>/*` (that agent's subtree), `trust_level:root|delegated|ephemeral`, or `*` (the caller's subtree). Every agent named must be in the caller's subtree.",
    example: ['trust_level:ephemeral'],
  })
  @IsArray()
  subjects: string[];

  @ApiProperty({
    type: [String],
    maxItems: POLICY_LIMITS.listItems,
    description: 'Globs over the action (a scope name): `*` matches any run of characters.',
    example: ['files:delete', 'crm.*:write'],
  })
  @IsArray()
  actions: string[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: POLICY_LIMITS.listItems,
    description: 'Globs over the resource (the token audience at issuance). Default `["*"]`.',
    example: ['https://files.example.com/*'],
  })
  @IsOptional()
  @IsArray()
  resources?: string[];

  @ApiPropertyOptional(CONDITIONS_DOC)
  @IsOptional()
  @IsObject()
  conditions?: PolicyConditions | null;

  @ApiPropertyOptional({
    description: 'Orders matched_policies (higher first); never turns a deny into an allow. Default 0.',
  })
  @IsOptional()
  @IsInt()
  priority?: number;

  @ApiPropertyOptional({ description: 'Default true. A disabled policy is never evaluated.' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** `PATCH /policies/{id}`: every field optional; each given field replaces the stored one. */
export class UpdatePolicyDto {
  @ApiPropertyOptional({ maxLength: POLICY_LIMITS.nameLength })
  @IsOptional()
  @IsString()
  name?: string;

  @ApiPropertyOptional({ maxLength: POLICY_LIMITS.descriptionLength, nullable: true })
  @IsOptional()
  @IsString()
  description?: string | null;

  @ApiPropertyOptional({ enum: POLICY_EFFECTS })
  @IsOptional()
  @IsIn(POLICY_EFFECTS as PolicyEffect[])
  effect?: PolicyEffect;

  @ApiPropertyOptional({ type: [String], maxItems: POLICY_LIMITS.listItems })
  @IsOptional()
  @IsArray()
  subjects?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: POLICY_LIMITS.listItems })
  @IsOptional()
  @IsArray()
  actions?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: POLICY_LIMITS.listItems })
  @IsOptional()
  @IsArray()
  resources?: string[];

  @ApiPropertyOptional({
    ...CONDITIONS_DOC,
    nullable: true,
    description: 'Replaces every condition; null clears them.',
  })
  @IsOptional()
  @IsObject()
  conditions?: PolicyConditions | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  priority?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
