import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '../webhook-events';

export class CreateWebhookDto {
  @ApiProperty({
    description: 'http(s) URL the events are POSTed to. Loopback/private targets are refused.',
    example: 'https://hooks.example.com/agentauth',
    maxLength: 2048,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url: string;

  @ApiProperty({
    description: `Event types to deliver, or "${ALL_EVENTS}" for all of them.`,
    example: ['credential.revoked', 'refresh_token.reuse_detected'],
    enum: [...WEBHOOK_EVENT_TYPES, ALL_EVENTS],
    isArray: true,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsString({ each: true })
  @IsIn([...WEBHOOK_EVENT_TYPES, ALL_EVENTS], { each: true })
  events: string[];

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}
