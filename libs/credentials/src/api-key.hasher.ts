import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { APP_CONFIG, type AppConfig, inSpan } from '@agentauth/core';

/**
 * argon2id hashing of API-key secrets with the configured cost (OWASP minimum m=19 MiB, t=2, p=1). Keeps a
 * dummy hash made at start-up with the same parameters, verified when no credential matches, so unknown
 * keys cost what known ones do.
 */
@Injectable()
export class ApiKeyHasher implements OnModuleInit {
  private dummyHash: string | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(32).toString('base64url'));
  }

  hash(secret: string): Promise<string> {
    return argon2.hash(secret, {
      type: argon2.argon2id,
      memoryCost: this.config.argon2MemoryKib,
      timeCost: this.config.argon2TimeCost,
      parallelism: this.config.argon2Parallelism,
    });
  }

  /** False for a mismatch and for an unreadable hash. */
  verify(hash: string, secret: string): Promise<boolean> {
    return this.traced(hash, secret, hash === this.dummyHash);
  }

  /** The same work as `verify` when there is nothing to verify against; always false. */
  async verifyDummy(secret: string): Promise<false> {
    if (!this.dummyHash) await this.onModuleInit();
    await this.verify(this.dummyHash as string, secret);
    return false;
  }

  /** argon2 as a span of its own (its cost, whether it was the dummy; never the hash or the secret). */
  private traced(hash: string, secret: string, dummy: boolean): Promise<boolean> {
    const attributes = {
      'argon2.memory_kib': this.config.argon2MemoryKib,
      'argon2.time_cost': this.config.argon2TimeCost,
      'argon2.dummy': dummy,
    };
    return inSpan('argon2.verify', { attributes }, async () => {
      try {
        return await argon2.verify(hash, secret);
      } catch {
        return false;
      }
    });
  }
}
