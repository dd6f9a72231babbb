import * as fs from 'node:fs';
import * as path from 'node:path';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, RequestHandler, Response } from 'express';
import { Public } from '../auth-metadata/public.decorator';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

export interface PackageInfo {
  name: string;
  version: string;
  description: string;
}

let cachedPackageInfo: PackageInfo | undefined;

/**
 * name, version and description of the `package.json` above this file (the repository's in development and
 * tests, `/app/package.json` in the image): the one place the version is written.
 */
export function packageInfo(): PackageInfo {
  if (cachedPackageInfo) return cachedPackageInfo;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<PackageInfo>;
      if (pkg.name === 'agentauth') {
        cachedPackageInfo = {
          name: pkg.name,
          version: pkg.version ?? '0.0.0',
          description: pkg.description ?? '',
        };
        return cachedPackageInfo;
      }
    }
    if (path.dirname(dir) === dir) throw new Error('package.json of agentauth not found above ' + __dirname);
  }
}

/** The index a first visit gets at `/` and at the API prefix: what this is and where to go next. */
export interface ApiIndex {
  name: string;
  version: string;
  description: string;
  links: {
    docs: string;
    openapi: string;
    api: string;
    discovery: string;
    agent_configuration: string;
    jwks: string;
    token: string;
    health: string;
    ready: string;
  };
}

export function apiIndex(config: AppConfig): ApiIndex {
  const base = config.publicBaseUrl;
  const api = `${base}${config.apiPrefix}`;
  return {
    name: config.appName,
    version: packageInfo().version,
    description: packageInfo().description,
    links: {
      docs: `${base}/docs`,
      openapi: `${base}/docs-json`,
      api,
      discovery: `${base}/.well-known/oauth-authorization-server`,
      agent_configuration: `${base}/.well-known/agent-configuration`,
      jwks: `${api}/auth/jwks`,
      token: `${api}/auth/token`,
      health: `${base}/health`,
      ready: `${base}/ready`,
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const LINK_LABELS: Record<keyof ApiIndex['links'], string> = {
  docs: 'Interactive API documentation (Swagger UI)',
  openapi: 'OpenAPI document (JSON)',
  api: 'Management API',
  discovery: 'OAuth 2.0 authorization server metadata (RFC 8414)',
  agent_configuration: 'Agent configuration (discovery)',
  jwks: 'Token signing keys (JWKS)',
  token: 'Token endpoint (POST)',
  health: 'Liveness',
  ready: 'Readiness',
};

/** The same index as a small HTML page (no script, no style: the CSP allows neither). */
export function apiIndexHtml(index: ApiIndex): string {
  const items = (Object.keys(index.links) as (keyof ApiIndex['links'])[])
    .map((k) => {
      const url = escapeHtml(index.links[k]);
      return `<li><a href="${url}">${escapeHtml(LINK_LABELS[k])}</a> <code>${url}</code></li>`;
    })
    .join('\n');
  const title = `${escapeHtml(index.name)} ${escapeHtml(index.version)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1><p>${escapeHtml(index.description)}</p>
<ul>
${items}
</ul>
<p>Getting started: README.md, section "Try it in two minutes".</p></body></html>
`;
}

/** JSON by default (curl, clients); the HTML page for a browser, whose `Accept` prefers text/html. */
function sendIndex(req: Request, res: Response, config: AppConfig): void {
  const index = apiIndex(config);
  if (req.accepts(['application/json', 'text/html']) === 'text/html') {
    res.type('html').send(apiIndexHtml(index));
  } else {
    res.json(index);
  }
}

/** `GET /`: registered on Express directly (Nest would put a controller route under the API prefix too). */
export function apiIndexHandler(config: AppConfig): RequestHandler {
  return (req, res) => sendIndex(req, res, config);
}

@ApiTags('health')
@Public()
@Controller()
export class ApiIndexController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  @ApiOperation({
    summary:
      'Index: name, version and links to the docs, discovery and health (JSON; an HTML page for a browser). Also at GET /',
  })
  @ApiOkResponse({ description: 'The index' })
  index(@Req() req: Request, @Res() res: Response): void {
    sendIndex(req, res, this.config);
  }
}
