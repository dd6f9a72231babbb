import { Injectable } from '@nestjs/common';
import { AgentsService } from '@agentauth/agents';
import { InvalidDpopProofError } from '../vocabulary/oauth-errors';
import type { TokenTarget } from './token-target';

/**
 * The DPoP proof (RFC 9449) a token request presented, as the token endpoint hands it to the grants
 * (`protocol/token-endpoint.ts` supplies it): validated on the first call — an invalid or replayed proof
 * throws `invalid_dpop_proof` — and undefined when the request sent none.
 */
export interface PresentedDpopProof {
  validated(): Promise<{ jkt: string } | undefined>;
}

/** Who a token request is for: every party whose DPoP requirement counts (CONTRACT §10). */
export interface DpopParties {
  /** The authenticated client (the actor, `client_id`). */
  clientId: string;
  /**
   * What the client's authentication established about its own chain's `require_dpop` (its
   * `AuthenticatedClient.requiresDpop`): when given, the client's chain is not read again.
   */
  clientRequiresDpop?: boolean;
  /** `sub` of the token to be issued. */
  subjectAgentId: string;
  /** Every `act` member of the token to be issued. */
  actorIds?: readonly string[];
  /** Whom the token is for: a resource server's `dpop_required` counts (CONTRACT §10). */
  target?: TokenTarget;
}

/** What a grant binds its tokens to: the proof's key, or nothing (a Bearer token). */
export interface DpopBindingResult {
  /** RFC 7638 thumbprint of the proof's key: `cnf.jkt` of the access token, the family's binding. */
  jkt?: string;
}

/**
 * DPoP at the token endpoint (RFC 9449 §5, CONTRACT §10), one call per grant:
 * - the request's proof is validated (`PresentedDpopProof`: htm POST, htu = the token endpoint URL) — an
 *   invalid or replayed proof is 400 `invalid_dpop_proof`, whatever else the request says;
 * - `isRequired` is THE decision "must this issuance be sender-constrained?";
 * - `mustMatch` (a bound refresh family, a bound subject token) requires a proof by that key.
 */
@Injectable()
export class DpopBinding {
  constructor(private readonly agents: AgentsService) {}

  /**
   * The binding of a token request: its proof validated (if any), required when `isRequired` says so, and
   * by the key `mustMatch` names (a bound refresh family or subject token) when there is one.
   */
  async bind(
    presented: PresentedDpopProof,
    parties: DpopParties,
    mustMatch?: { jkt: string; what: string },
  ): Promise<DpopBindingResult> {
    const proof = await presented.validated();
    if (mustMatch) {
      if (!proof)
        throw new InvalidDpopProofError(
          `DPoP proof required: the ${mustMatch.what} is DPoP-bound`,
          'dpop_bound_without_proof',
        );
      if (proof.jkt !== mustMatch.jkt) {
        throw new InvalidDpopProofError(
          `The DPoP proof is not by the key the ${mustMatch.what} is bound to`,
          'dpop_key_mismatch',
        );
      }
    }
    if (!proof && (await this.isRequired(parties))) {
      throw new InvalidDpopProofError('DPoP proof required', 'dpop_required');
    }
    return proof ? { jkt: proof.jkt } : {};
  }

  /**
   * THE answer to "is a DPoP proof required for this issuance?" (CONTRACT §10): when the token's resource
   * server has `dpop_required`, or the client, the token's `sub` or any `act` member requires it
   * (`require_dpop`, inherited from ancestors).
   */
  async isRequired(parties: DpopParties): Promise<boolean> {
    if (parties.target?.kind === 'resource_server' && parties.target.server.dpopRequired) return true;
    if (parties.clientRequiresDpop === true) return true;
    const others = [parties.subjectAgentId, ...(parties.actorIds ?? [])].filter(
      (id) => id !== parties.clientId,
    );
    // A client's token for itself (client_credentials): its authentication already answered, no read.
    if (parties.clientRequiresDpop === false && others.length === 0) return false;
    return this.agents.anyRequiresDpop(
      parties.clientRequiresDpop === undefined ? [parties.clientId, ...others] : others,
    );
  }
}
