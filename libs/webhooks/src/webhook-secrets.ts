import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@agentauth/core';
import { decrypt, deriveKey, encrypt } from './crypto';

/** HKDF purpose label of the key that encrypts webhook signing secrets at rest. */
export const WEBHOOK_SECRET_KEY_PURPOSE = 'agentauth/webhook-signing-secret/v1';

/** Seals signing secrets for storage and opens them for signing (worker). */
@Injectable()
export class WebhookSecrets {
  private readonly key: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.key = deriveKey(config.secretKey, WEBHOOK_SECRET_KEY_PURPOSE);
  }

  seal(secret: string): string {
    return encrypt(this.key, secret);
  }

  open(sealed: string): string {
    return decrypt(this.key, sealed);
  }
}
