import { Module } from '@nestjs/common';
import { AgentsModule } from '@agentauth/agents';
import { BEARER_AUTHENTICATOR } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';
import { DelegationsModule } from '@agentauth/delegations';
import { KeysModule } from '@agentauth/keys';
import { PoliciesModule } from '@agentauth/policies';
import { ResourceServersModule } from '@agentauth/resource-servers';
import { RevocationModule } from '@agentauth/revocation';
import { ScopesModule } from '@agentauth/scope-registry';
import { JwtBearerAuthenticator } from './http/jwt-bearer.authenticator';
import { ResourceServerCascade } from './cascades/resource-server-cascade';
import { TokenCascades } from './cascades/token-cascades';
import { ClientAuthenticator } from './protocol/client-authenticator.service';
import { ClientAssertionVerifier } from './protocol/client-assertion.verifier';
import { ReplayCache } from './protocol/replay-cache';
import { DpopBinding } from './grants/dpop-binding';
import { DpopProofValidator } from './protocol/dpop-proof.validator';
import { OAuthRequestLimits } from './protocol/oauth-request-limits';
import { VerifiedKeyCache } from './clients/verified-key-cache';
import { DiscoveryController } from './http/discovery.controller';
import { ProtectedResourceController } from './http/protected-resource.controller';
import { AuthStats } from './stats/auth-stats';
import { AuthorizationCodesRepository } from './authorization/authorization-codes.repository';
import { AuthorizationCodes } from './authorization/authorization-codes.service';
import { ConsentService } from './authorization/consent.service';
import { AuthorizationCodeGrant } from './grants/authorization-code.grant';
import { AuthorizeController } from './http/authorize/authorize.controller';
import { AuthorizePageFilter } from './http/authorize/authorize-page.filter';
import { AuthorizeSignIn } from './http/authorize/authorize-sign-in';
import { AuthorizationRequestValidator } from './protocol/authorization-request';
import { AgentDelegationGrant } from './grants/agent-delegation.grant';
import { ClientCredentialsGrant } from './grants/client-credentials.grant';
import { DelegatedAuthority } from './grants/delegated-authority';
import { RefreshTokenGrant } from './grants/refresh-token.grant';
import { TokenExchangeGrant } from './grants/token-exchange.grant';
import { RefreshTokenRevoker } from './refresh/refresh-token.revoker';
import { RefreshStoreModule } from './refresh/refresh-store.module';
import { RefreshTokensService } from './refresh/refresh-tokens.service';
import type { GrantHandler } from './grants/grant-handler';
import { GRANT_HANDLERS, GrantRegistry } from './grants/grant-registry';
import { TokenEndpoint } from './protocol/token-endpoint';
import { ScopeResolver } from './grants/scope-resolution';
import { TokenAudit } from './grants/token-audit';
import { TokenTargets } from './grants/token-target';
import { IntrospectionService } from './introspection/introspection.service';
import { IntrospectionCallers } from './protocol/introspection-caller';
import { IntrospectionRevocationController } from './http/introspection-revocation.controller';
import { OAuthExceptionFilter } from './http/oauth-exception.filter';
import { TokenController } from './http/token.controller';
import { ISSUANCE_POLICY } from './policy/issuance-policy';
import { PolicyIssuancePolicy } from './policy/policy-issuance-policy';
import { TokenRevocationService } from './revocation/token-revocation.service';
import { AccessTokenIssuer } from './tokens/access-token.issuer';
import { AccessTokenValidator } from './tokens/access-token.validator';

/**
 * OAuth 2.0 for agents (docs/tokens.md): the token endpoint and its grants, client authentication with the
 * verified-key cache, introspection, revocation, discovery, the cascades that kill tokens, and the Bearer
 * authenticator of the management API (`BEARER_AUTHENTICATOR`, read by core's global guard).
 * `ISSUANCE_POLICY` is the policy step of issuance: the one deny-override evaluator (PoliciesModule).
 */
@Module({
  imports: [
    AgentsModule,
    CredentialsModule,
    DelegationsModule,
    KeysModule,
    PoliciesModule,
    RefreshStoreModule,
    ResourceServersModule,
    RevocationModule,
    ScopesModule,
  ],
  controllers: [
    TokenController,
    IntrospectionRevocationController,
    DiscoveryController,
    ProtectedResourceController,
    AuthorizeController,
  ],
  providers: [
    // Every grant, once: the token endpoint looks `grant_type` up among these (discovery lists them in this
    // order). A new grant is one class in grants/ and one entry here.
    {
      provide: GRANT_HANDLERS,
      useFactory: (...grants: GrantHandler[]) => grants,
      inject: [
        ClientCredentialsGrant,
        RefreshTokenGrant,
        TokenExchangeGrant,
        AgentDelegationGrant,
        AuthorizationCodeGrant,
      ],
    },
    GrantRegistry,
    TokenEndpoint,
    OAuthExceptionFilter,
    VerifiedKeyCache,
    ReplayCache,
    ClientAssertionVerifier,
    DpopProofValidator,
    DpopBinding,
    ClientAuthenticator,
    OAuthRequestLimits,
    AccessTokenIssuer,
    AccessTokenValidator,
    ScopeResolver,
    TokenAudit,
    TokenTargets,
    { provide: ISSUANCE_POLICY, useClass: PolicyIssuancePolicy },
    ClientCredentialsGrant,
    RefreshTokensService,
    RefreshTokenGrant,
    RefreshTokenRevoker,
    TokenExchangeGrant,
    DelegatedAuthority,
    AgentDelegationGrant,
    // CONTRACT §11: the authorization endpoint, its pages, codes and grant (docs/authorize.md).
    AuthorizationCodesRepository,
    AuthorizationCodes,
    ConsentService,
    AuthorizationRequestValidator,
    AuthorizeSignIn,
    AuthorizePageFilter,
    AuthorizationCodeGrant,
    AuthStats,
    IntrospectionService,
    IntrospectionCallers,
    TokenRevocationService,
    TokenCascades,
    ResourceServerCascade,
    JwtBearerAuthenticator,
    { provide: BEARER_AUTHENTICATOR, useExisting: JwtBearerAuthenticator },
  ],
  exports: [
    GrantRegistry,
    BEARER_AUTHENTICATOR,
    ClientAuthenticator,
    AccessTokenIssuer,
    AccessTokenValidator,
    ScopeResolver,
    TokenAudit,
    TokenRevocationService,
    RefreshTokensService,
  ],
})
export class AuthModule {}
