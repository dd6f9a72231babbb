import { Module } from '@nestjs/common';
import { RevocationMirror } from './revocation-mirror';
import { RevocationRepository } from './revocation.repository';
import { RevocationService } from './revocation.service';

/** Durable revocation state with its Redis mirror (docs/tokens.md, "Revocation state"). */
@Module({
  providers: [RevocationRepository, RevocationMirror, RevocationService],
  exports: [RevocationService],
})
export class RevocationModule {}
