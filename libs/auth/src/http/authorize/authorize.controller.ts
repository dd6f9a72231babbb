import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AgentsService } from '@agentauth/agents';
import {
  APP_CONFIG,
  type AppConfig,
  ClientIpResolver,
  Clock,
  OAUTH_API_TAG,
  Public,
  requestIdOf,
} from '@agentauth/core';
import { AuthorizationRedirectError, ConsentService } from '../../authorization/consent.service';
import {
  AuthorizationRequestValidator,
  clientRedirect,
  parseAuthorizationQuery,
  type ValidatedAuthorizationRequest,
} from '../../protocol/authorization-request';
import { AuthorizePageFilter, sendHtml } from './authorize-page.filter';
import { type AuthorizeSession, AuthorizeSessionError, AuthorizeSessions } from './authorize-session';
import { AuthorizeSignIn, SIGN_IN_FAILED_MESSAGE, SignInFailedError } from './authorize-sign-in';
import { consentPage, describeLifetime, signInPage } from './authorize.pages';

/** The sign-in form posts here (`POST {API_V1_PREFIX}/auth/authorize/sign-in`). */
export const SIGN_IN_PATH = 'authorize/sign-in';
export const CONSENT_PATH = 'authorize/consent';
export const DECISION_PATH = 'authorize/decision';

function hostOf(uri: string): string {
  try {
    const url = new URL(uri);
    return url.host || `${url.protocol}${url.pathname}`;
  } catch {
    return uri;
  }
}

/**
 * The authorization endpoint (RFC 6749 §4.1, RFC 7636, RFC 9207; CONTRACT §11, docs/authorize.md) and its
 * pages — HTML, not JSON (exempt from problem+json): every response here is `no-store`, framed by nobody,
 * and either a page or a redirect to the client's registered redirect URI.
 * - `GET  /auth/authorize`            validates the request, starts a session, shows the sign-in page;
 * - `POST /auth/authorize/sign-in`    agent id + API key → 303 to the consent page (401 + the form again);
 * - `GET  /auth/authorize/consent`    the consent page of the signed-in session;
 * - `POST /auth/authorize/decision`   approve (a delegation + a code) or deny → 303 to the client.
 * Every POST needs the session cookie and its CSRF token (else 403, no redirect). Every step validates the
 * request again (a client deactivated meanwhile gets the error page).
 */
@ApiTags(OAUTH_API_TAG)
@Public()
@Controller('auth')
@UseFilters(AuthorizePageFilter)
export class AuthorizeController {
  private readonly sessions: AuthorizeSessions;
  private readonly base: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly requests: AuthorizationRequestValidator,
    private readonly consent: ConsentService,
    private readonly signIns: AuthorizeSignIn,
    private readonly agents: AgentsService,
    private readonly clientIp: ClientIpResolver,
    private readonly clock: Clock,
  ) {
    this.sessions = new AuthorizeSessions(config);
    this.base = `${config.apiPrefix}/auth`;
  }

  @Get('authorize')
  @ApiOperation({
    summary: 'Authorization endpoint (RFC 6749 §4.1 with PKCE S256): the sign-in page',
    description:
      'Query: response_type=code, client_id, redirect_uri, code_challenge, code_challenge_method=S256, scope?, state?, resource?. An unknown or inactive client or an unregistered redirect URI → an HTML error page (400); other errors → a redirect to redirect_uri with error, error_description, state and iss (RFC 9207). Otherwise an HTML sign-in page (docs/authorize.md).',
  })
  @ApiProduces('text/html')
  async authorize(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { params, repeated } = parseAuthorizationQuery(req.originalUrl.split('?')[1] ?? '');
    const request = await this.validate(params, repeated, req, res);
    if (!request) return;
    const session = this.sessions.start(request.params, this.clock.nowMs());
    this.sessions.write(res, session);
    sendHtml(res, 200, this.signInHtml(session, request));
  }

  @Post(SIGN_IN_PATH)
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async signIn(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = this.sessions.readForPost(req, this.clock.nowMs());
    const request = await this.validate(session.req, [], req, res);
    if (!request) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      const approver = await this.signIns.signIn(
        req,
        { agentId: body.agent_id, apiKey: body.api_key },
        { id: request.client.id, rootAgentId: request.client.rootAgentId },
        { ip: request.ip, requestId: request.requestId },
      );
      // A fresh CSRF token once signed in (the pre-sign-in one never authorizes a decision).
      this.sessions.write(res, { ...this.sessions.start(session.req, this.clock.nowMs()), approver });
      res.redirect(303, `${this.base}/${CONSENT_PATH}`);
    } catch (error) {
      if (!(error instanceof SignInFailedError)) throw error;
      const agentId = typeof body.agent_id === 'string' ? body.agent_id.slice(0, 64) : undefined;
      sendHtml(res, 401, this.signInHtml(session, request, SIGN_IN_FAILED_MESSAGE, agentId));
    }
  }

  @Get(CONSENT_PATH)
  @ApiExcludeEndpoint()
  async consentPage(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = this.sessions.read(req, this.clock.nowMs());
    const request = await this.validate(session.req, [], req, res);
    if (!request) return;
    if (!session.approver || session.approver.rootAgentId !== request.client.rootAgentId) {
      // Not signed in (yet): the sign-in page of this session.
      sendHtml(res, 200, this.signInHtml(session, request));
      return;
    }
    try {
      const view = await this.consent.view(request, session.approver);
      const approver = (await this.agents.getActivity(session.approver.agentId))?.agent;
      sendHtml(
        res,
        200,
        consentPage({
          action: `${this.base}/${DECISION_PATH}`,
          csrf: session.csrf,
          client: { id: request.client.id, name: request.client.name },
          parent: request.clientParent
            ? { id: request.clientParent.id, name: request.clientParent.name }
            : null,
          redirectHost: hostOf(request.redirectUri),
          resource: request.target.audience,
          approver: { id: session.approver.agentId, name: approver?.name ?? session.approver.agentId },
          lifetime: describeLifetime(view.lifetimeSeconds),
          scopes: view.scopes,
        }),
      );
    } catch (error) {
      if (error instanceof AuthorizationRedirectError) return this.redirectError(res, request, error);
      throw error;
    }
  }

  @Post(DECISION_PATH)
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async decide(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = this.sessions.readForPost(req, this.clock.nowMs());
    if (!session.approver) throw new AuthorizeSessionError('not_signed_in');
    const request = await this.validate(session.req, [], req, res);
    if (!request) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    // The session is spent whatever the decision: a second POST of the same form finds none.
    this.sessions.clear(res);
    try {
      if (body.decision !== 'approve') {
        await this.consent.deny(request, session.approver);
        throw new AuthorizationRedirectError('access_denied', 'The request was denied');
      }
      const chosen = ([] as unknown[])
        .concat(body.scope ?? [])
        .filter((s): s is string => typeof s === 'string');
      const { code } = await this.consent.approve(request, session.approver, chosen);
      res.redirect(
        303,
        clientRedirect(request.redirectUri, { code, state: request.state, iss: this.config.publicBaseUrl }),
      );
    } catch (error) {
      if (error instanceof AuthorizationRedirectError) return this.redirectError(res, request, error);
      throw error;
    }
  }

  /** The request validated now, or `undefined` when an error redirect was already sent. */
  private async validate(
    params: ValidatedAuthorizationRequest['params'],
    repeated: string[],
    req: Request,
    res: Response,
  ): Promise<ValidatedAuthorizationRequest | undefined> {
    const origin = { ip: this.clientIp.resolve(req), requestId: requestIdOf(req) };
    try {
      return await this.requests.validate(params, repeated, origin);
    } catch (error) {
      if (error instanceof AuthorizationRedirectError) {
        // Client and redirect URI are known good here (else AuthorizationPageError): answer at the client.
        this.redirectError(res, { redirectUri: params.redirect_uri as string, state: params.state }, error);
        return undefined;
      }
      throw error;
    }
  }

  private redirectError(
    res: Response,
    request: { redirectUri: string; state?: string },
    error: AuthorizationRedirectError,
  ): void {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(
      303,
      clientRedirect(request.redirectUri, {
        error: error.error,
        error_description: error.description,
        state: request.state,
        iss: this.config.publicBaseUrl,
      }),
    );
  }

  private signInHtml(
    session: AuthorizeSession,
    request: ValidatedAuthorizationRequest,
    error?: string,
    agentId?: string,
  ): string {
    return signInPage({
      action: `${this.base}/${SIGN_IN_PATH}`,
      csrf: session.csrf,
      client: { id: request.client.id, name: request.client.name },
      ...(error ? { error } : {}),
      ...(agentId ? { agentId } : {}),
    });
  }
}
