/**
 * The cost ledger's app (`make bench-ledger`, bench/ledger.mjs; docs/performance.md "Cost ledger"): the static
 * discovery-sized JSON route of the floor (bench/floor-app.ts), with AgentAuth's HTTP layers added one at a
 * time — the real middlewares, guards, interceptor, pipe and filters, as `configureApiApp` and the API module
 * wire them, in the same order. `LEDGER_LAYER=n` serves the app with layers 1..n; the driver measures each
 * n in turn and prints the difference in µs per request.
 *
 * Layers ≥ 1 load the infrastructure the later layers need (config, logging, PostgreSQL, Redis, audit, rate
 * limits) and start with every global enhancer those modules register removed; each layer then puts back
 * its own. A bench, never production code.
 */
import 'reflect-metadata';
import { Controller, Get, Header, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as PinoLogger } from 'pino';
import { AuditModule } from '@agentauth/audit';
import { AuditInterceptor } from '../../libs/audit/src/audit.interceptor';
import {
  apiCorsOptions,
  APP_CONFIG,
  type AppConfig,
  AuthGuard,
  CoreModule,
  FORM_ENCODED_PATHS,
  installLeanJsonReply,
  Public,
  RequestObservers,
  ROOT_LOGGER,
} from '@agentauth/core';
import { RateLimitGuard, RateLimitModule } from '@agentauth/ratelimit';
import { RateLimitedFilter } from '../../libs/ratelimit/src/rate-limited.filter';
import { ProblemDetailsFilter } from '../../libs/core/src/errors/problem-details.filter';
import { accessLogMiddleware } from '../../libs/core/src/http/access-log.middleware';
import { bodyParsers } from '../../libs/core/src/http/body-parsers';
import { contentTypeMiddleware } from '../../libs/core/src/http/content-type.middleware';
import { securityHeadersMiddleware } from '../../libs/core/src/http/security-headers';
import {
  bindRequestLoggerMiddleware,
  requestLoggerMiddleware,
} from '../../libs/core/src/logging/request-logger';
import { loadBody } from '../floor-body';

/** The ledger's layers, in the order they are added (index = LEDGER_LAYER). */
export const LEDGER_LAYERS = [
  'bare Nest-Express (the floor)',
  'infrastructure modules (config, logging, PostgreSQL, Redis, audit, rate-limit services), ETag and X-Powered-By off, lean JSON reply',
  '+ request id / request logger / access log / pino context binding',
  '+ security headers',
  '+ CORS',
  '+ content-type check and body parsing (JSON, form)',
  '+ global prefix (/api/v1, with exclusions)',
  '+ global authentication guard',
  '+ rate-limit guard',
  '+ audit interceptor',
  '+ validation pipe',
  '+ exception filters (problem+json, 429)',
] as const;

const BODY = loadBody();

@Public()
@Controller('.well-known')
class StaticController {
  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  metadata(): unknown {
    return BODY;
  }
}

@Module({ controllers: [StaticController] })
class BareModule {}

@Module({
  imports: [CoreModule.forRoot({ serviceName: 'agentauth-ledger' }), AuditModule, RateLimitModule.forRoot()],
  controllers: [StaticController],
  providers: [...CoreModule.httpProviders()],
})
class LayeredModule {}

interface EnhancerConfig {
  getGlobalGuards(): unknown[];
  getGlobalInterceptors(): unknown[];
  getGlobalPipes(): unknown[];
  getGlobalFilters(): unknown[];
}

/** Keeps only the global enhancers of the layers up to `layer` (Nest reads these lists when routes are built, at listen). */
function keepEnhancers(app: INestApplication, layer: number): void {
  const config = (app as unknown as { config: EnhancerConfig }).config;
  const keep = (list: unknown[], allowed: (item: unknown) => boolean) => {
    const kept = list.filter(allowed);
    list.splice(0, list.length, ...kept);
  };
  keep(
    config.getGlobalGuards(),
    (g) => (g instanceof AuthGuard && layer >= 7) || (g instanceof RateLimitGuard && layer >= 8),
  );
  keep(config.getGlobalInterceptors(), (i) => i instanceof AuditInterceptor && layer >= 9);
  keep(config.getGlobalPipes(), () => layer >= 10);
  keep(
    config.getGlobalFilters(),
    (f) => (f instanceof ProblemDetailsFilter || f instanceof RateLimitedFilter) && layer >= 11,
  );
}

async function main(): Promise<void> {
  const layer = Number(process.env.LEDGER_LAYER ?? 0);
  const port = Number(process.env.PORT ?? 8303);
  if (layer === 0) {
    const app = await NestFactory.create<NestExpressApplication>(BareModule, { logger: false });
    await app.listen(port, '127.0.0.1');
    process.stdout.write('listening\n');
    return;
  }
  const app = await NestFactory.create<NestExpressApplication>(LayeredModule, {
    logger: false,
    bodyParser: false,
  });
  keepEnhancers(app, layer);
  const config = app.get<AppConfig>(APP_CONFIG);
  const rootLogger = app.get<PinoLogger>(ROOT_LOGGER);
  app.set('trust proxy', false);
  app.disable('x-powered-by');
  app.set('etag', false);
  installLeanJsonReply(app.getHttpAdapter() as ExpressAdapter);
  if (layer >= 2) {
    app.use(requestLoggerMiddleware(rootLogger));
    app.use(accessLogMiddleware(rootLogger, app.get(RequestObservers)));
  }
  if (layer >= 3) app.use(securityHeadersMiddleware());
  if (layer >= 4) {
    app.enableCors(apiCorsOptions(config));
  }
  if (layer >= 5) {
    const oauthPaths = new Set(FORM_ENCODED_PATHS.map((p) => `${config.apiPrefix}${p}`));
    const isOAuthPath = (path: string) => oauthPaths.has(path);
    app.use(contentTypeMiddleware(isOAuthPath));
    for (const parser of bodyParsers(config.bodyLimitBytes, isOAuthPath)) app.use(parser);
  }
  // As configureApiApp: the context binding after the edge middlewares (after the body parsers from layer 5).
  if (layer >= 2) app.use(bindRequestLoggerMiddleware);
  if (layer >= 6) {
    app.setGlobalPrefix(config.apiPrefix, { exclude: ['health', 'ready', 'metrics', '.well-known/{*path}'] });
  }
  await app.listen(port, '127.0.0.1');
  process.stdout.write('listening\n');
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
