import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Scope } from './scope.entity';
import { ScopeRegistrationHooks } from './scope-registration.hooks';
import { ScopeRegistry } from './scope-registry.service';
import { ScopesController } from './scopes.controller';
import { ScopesRepository } from './scopes.repository';

/**
 * The scope registry and `POST/GET /scopes`. Imported by the contexts that write scopes (agents,
 * credentials, …) for `ScopeRegistry.assertRegistered`; it imports none of them (they plug into
 * registrations through `ScopeRegistrationHooks`). The scope algebra itself stays in `@agentauth/scopes`,
 * which is pure (core's guard imports it).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Scope])],
  controllers: [ScopesController],
  providers: [ScopeRegistry, ScopesRepository, ScopeRegistrationHooks],
  exports: [ScopeRegistry, ScopeRegistrationHooks],
})
export class ScopesModule {}
