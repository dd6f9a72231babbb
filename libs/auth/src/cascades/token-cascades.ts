import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AgentCascadeRegistry } from '@agentauth/agents';
import { AfterCommit, APP_CONFIG, type AppConfig, Clock } from '@agentauth/core';
import { CredentialLifecycleRegistry, CredentialsService } from '@agentauth/credentials';
import { DelegationRevocationRegistry } from '@agentauth/delegations';
import { type RevocationMarker, RevocationService } from '@agentauth/revocation';
import { dpopRequirementRef, rotationRef, VERIFIED_KEY_CACHE_TTL_MS } from '../clients/verified-key-cache';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';

/** Slack on top of the longest life of anything a marker kills (clock skew, slow requests). */
const MARKER_MARGIN_MS = 5 * 60_000;

/**
 * How agent lifecycle changes and credential revocations reach tokens (CONTRACT §2, §3): revocation markers
 * written INSIDE the transaction that made the change (so they commit or roll back with it), checked by every
 * token validation and every verified-key cache hit.
 *
 * - agent deactivated / suspended / `allowed_scopes` narrowed / `expires_at` shortened → an `agent` marker
 *   for every affected agent: tokens authenticated (`auth_time`) at or before it are dead. Outstanding
 *   tokens may carry scopes or a lifetime the agent no longer has; the simplest safe rule is to kill them
 *   (the client gets a new token in one request). Deactivation and suspension also revoke the refresh
 *   families that act through an affected agent — client, subject or any `act` member, so a suspended
 *   middle delegate ends the families minted through it (re-activation revives nothing); narrowing and a shorter
 *   expiry do not (every refresh re-checks scopes and the agent chain as a new grant).
 * - credential revoked (explicitly or by a deactivation) → a `credential` marker: every token minted with
 *   it (`cid`) is dead; the refresh families started with it are revoked (`family` markers).
 * - credential rotated → the rotation's own marker (no token dies; cached verifications made before the
 *   rotation stop being trusted).
 * - delegations revoked (a `DELETE /delegations/{id}` with its descendants, or an agent deactivation) →
 *   DelegationsService already wrote a `delegation` marker each (access tokens carry `delegation_id`); the
 *   refresh families minted from them are revoked here (`family` markers), in the same transaction.
 *
 * `agent` markers are written twice: in the transaction (at the change's time) and again right after the
 * COMMIT (at the commit's time). A token request that read the agent just before the change committed has
 * `auth_time` before that second instant, so it dies too (docs/tokens.md, "Cascades and races").
 */
@Injectable()
export class TokenCascades implements OnModuleInit {
  constructor(
    private readonly agentCascades: AgentCascadeRegistry,
    private readonly credentialLifecycle: CredentialLifecycleRegistry,
    private readonly credentials: CredentialsService,
    private readonly delegationRevocations: DelegationRevocationRegistry,
    private readonly revocation: RevocationService,
    private readonly afterCommit: AfterCommit,
    private readonly refresh: RefreshTokensService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const killAgents = (manager: EntityManager, agentIds: string[], at: Date) =>
      this.revokeAgents(manager, agentIds, at);
    const killAgentsAndFamilies =
      (reason: string) => async (m: EntityManager, agentIds: string[], at: Date) => {
        await this.revokeAgents(m, agentIds, at);
        await this.refresh.revokeFamilies(m, { agentIds }, reason, at);
      };
    this.agentCascades.register('tokens', {
      onDeactivated: killAgentsAndFamilies('agent_deactivated'),
      onSuspended: killAgentsAndFamilies('agent_suspended'),
      onScopesNarrowed: (manager, changes, at) =>
        killAgents(
          manager,
          changes.map((c) => c.agentId),
          at,
        ),
      onExpiryShortened: (manager, agentIds, _expiresAt, at) => killAgents(manager, agentIds, at),
      // Cached client authentications of the subtree carry the old DPoP requirement: no longer trusted.
      onDpopRequirementChanged: (manager, agentId, at) =>
        this.revocation.revoke(
          [
            {
              ...dpopRequirementRef(agentId),
              at,
              expiresAt: new Date(at.getTime() + 2 * VERIFIED_KEY_CACHE_TTL_MS + MARKER_MARGIN_MS),
            },
          ],
          manager,
        ),
      // A root gaining a registered scope changes what its full keys grant: verified-key cache entries made
      // before must not serve the old scope set (outstanding tokens keep their narrower snapshot, which is safe).
      onRootScopesExtended: async (manager, change, at) => {
        const keyIds = await this.credentials.activeCredentialIdsUnscoped(manager, change.agentId);
        await this.revocation.revoke(
          keyIds.map((id) => ({
            ...rotationRef(id),
            at,
            expiresAt: new Date(at.getTime() + 2 * VERIFIED_KEY_CACHE_TTL_MS + MARKER_MARGIN_MS),
          })),
          manager,
        );
      },
    });
    this.delegationRevocations.register('tokens', {
      onRevoked: async (manager, delegationIds, at) => {
        await this.refresh.revokeFamilies(manager, { delegationIds }, 'delegation_revoked', at);
      },
    });
    this.credentialLifecycle.register('tokens', {
      onRevoked: async (manager, credentialIds, at) => {
        await this.revocation.revoke(
          credentialIds.map((id) => ({ kind: 'credential', id, at, expiresAt: this.markerExpiry(at) })),
          manager,
        );
        // Refresh families started with the key die with it (their access tokens through `family` markers).
        await this.refresh.revokeFamilies(manager, { credentialIds }, 'credential_revoked', at);
      },
      onRotated: (manager, rotation, at) =>
        this.revocation.revoke(
          [
            {
              ...rotationRef(rotation.credentialId),
              at,
              expiresAt: new Date(at.getTime() + 2 * VERIFIED_KEY_CACHE_TTL_MS + MARKER_MARGIN_MS),
            },
          ],
          manager,
        ),
    });
  }

  /**
   * A marker is needed as long as something it kills may still be alive: a token authenticated at or
   * before it lives at most one verified-key-cache TTL (its `auth_time` may be that old) plus one access
   * token lifetime. Refresh tokens and delegations re-check the database, so they need no marker.
   */
  markerExpiry(at: Date): Date {
    return new Date(
      at.getTime() +
        this.config.accessTokenExpireMinutes * 60_000 +
        VERIFIED_KEY_CACHE_TTL_MS +
        MARKER_MARGIN_MS,
    );
  }

  private async revokeAgents(manager: EntityManager, agentIds: string[], at: Date): Promise<void> {
    const markers = (when: Date): RevocationMarker[] =>
      agentIds.map((id) => ({ kind: 'agent', id, at: when, expiresAt: this.markerExpiry(when) }));
    await this.revocation.revoke(markers(at), manager);
    await this.afterCommit.schedule(manager, (committed) =>
      this.revocation.revoke(markers(this.clock.now()), committed),
    );
  }
}
