import { Module } from '@nestjs/common';
import { AfterCommit } from '@agentauth/core';
import { RevocationMirror } from './revocation-mirror';
import { RevocationRepository } from './revocation.repository';
import { RevocationService } from './revocation.service';

/** Durable revocation state with its Redis mirror (docs/tokens.md, "Revocation state"). */
@Module({
  providers: [AfterCommit, RevocationRepository, RevocationMirror, RevocationService],
  exports: [AfterCommit, RevocationService],
})
export class RevocationModule {}
