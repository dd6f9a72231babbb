import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AgentsService } from '@agentauth/agents';
import { APP_CONFIG, type AppConfig } from '@agentauth/core';
import type { TokenTarget } from './token-target';
import { InvalidDpopProofError } from '../vocabulary/oauth-errors';
import { DpopProofError, DpopProofValidator, type ValidDpopProof } from '../protocol/dpop-proof.validator';

/** Who a token request is for: every party whose DPoP requirement counts (CONTRACT §10). */
export interface DpopParties {
  /** The authenticated client (the actor, `client_id`). */
  clientId: string;
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
 * - a `DPoP` header is validated (`DpopProofValidator`: htm POST, htu = the token endpoint URL) — an invalid
 *   or replayed proof is 400 `invalid_dpop_proof`, whatever else the request says;
 * - `isRequired` is THE decision "must this issuance be sender-constrained?";
 * - `mustMatch` (a bound refresh family, a bound subject token) requires a proof by that key.
 */
@Injectable()
export class DpopBinding {
  constructor(
    private readonly validator: DpopProofValidator,
    private readonly agents: AgentsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The token endpoint's path (the `htu` of its proofs, without the origin). */
  private get tokenPath(): string {
    return `${this.config.apiPrefix}/auth/token`;
  }

  /**
   * The binding of a token request: its proof validated (if any), required when `isRequired` says so, and
   * by the key `mustMatch` names (a bound refresh family or subject token) when there is one.
   */
  async bind(
    req: Request,
    parties: DpopParties,
    mustMatch?: { jkt: string; what: string },
  ): Promise<DpopBindingResult> {
    const proof = await this.proofOf(req);
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
    return this.agents.anyRequiresDpop([
      parties.clientId,
      parties.subjectAgentId,
      ...(parties.actorIds ?? []),
    ]);
  }

  private async proofOf(req: Request): Promise<ValidDpopProof | undefined> {
    try {
      const proof = DpopProofValidator.proofOf(req.headers.dpop);
      if (proof === undefined) return undefined;
      return await this.validator.validate(proof, { method: req.method, path: this.tokenPath });
    } catch (error) {
      if (error instanceof DpopProofError)
        throw new InvalidDpopProofError('Invalid DPoP proof', error.reason);
      throw error;
    }
  }
}
