import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig, OAUTH_API_TAG, Public } from '@agentauth/core';
import { JwksDto } from './dto/jwks.dto';
import { SigningKeysService } from './signing-keys.service';

@ApiTags(OAUTH_API_TAG)
@Controller('auth')
export class KeysController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeysService,
  ) {}

  @Public()
  @Get('jwks')
  @ApiOperation({
    summary: 'Public signing keys (RFC 7517): the active key, keys about to sign and keys still verifying',
  })
  @ApiOkResponse({ type: JwksDto })
  jwks(@Res({ passthrough: true }) res: Response): JwksDto {
    res.setHeader('Cache-Control', `public, max-age=${this.config.jwksMaxAgeSeconds}`);
    return { keys: this.keys.jwks().map(({ kty, kid, use, alg, n, e }) => ({ kty, kid, use, alg, n, e })) };
  }
}
