import type { Application } from 'express';
import type { INestApplication } from '@nestjs/common';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import type { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoBaseLogger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { bindRequestLoggerMiddleware, requestLoggerMiddleware } from '../logging/request-logger';
import { ROOT_LOGGER } from '../logging/logging.module';
import { accessLogMiddleware } from './access-log.middleware';
import { bodyParsers } from './body-parsers';
import { contentTypeMiddleware } from './content-type.middleware';
import { installLeanJsonReply } from './lean-json-adapter';
import { RequestObservers } from './request-observers';
import { securityHeadersMiddleware } from './security-headers';
import { QuietFrameworkLogger } from '../logging/framework-logger';
import { apiIndexHandler, packageInfo } from './api-index';
import { OPENAPI_TAGS, openApiDescription } from './openapi-document';

/**
 * The OAuth endpoints (below the API prefix): form-encoded bodies allowed, RFC 6749 error bodies. The
 * authorization pages' forms (CONTRACT §11) post form-encoded bodies too; their own errors are HTML pages.
 */
export const FORM_ENCODED_PATHS = [
  '/auth/token',
  '/auth/token/introspect',
  '/auth/token/revoke',
  '/auth/authorize/sign-in',
  '/auth/authorize/decision',
];

/** The API's CORS policy: the configured origins; the request id and rate-limit headers readable by scripts. */
export function apiCorsOptions(config: AppConfig): CorsOptions {
  return {
    origin: config.corsOrigins === '*' ? '*' : config.corsOrigins,
    exposedHeaders: [
      'X-Request-ID',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ],
  };
}

/**
 * Everything HTTP-level the API needs, shared by `main.ts` and the integration tests so tests exercise
 * exactly the production wiring.
 */
export function configureApiApp(app: INestApplication): INestApplication {
  const expressApp = app as NestExpressApplication;
  const config = app.get<AppConfig>(APP_CONFIG);
  const logger = app.get(Logger);
  const rootLogger = app.get<PinoBaseLogger>(ROOT_LOGGER);
  // Nest's start-up narration at debug level: the start-up line stays the last one before requests.
  app.useLogger(new QuietFrameworkLogger(logger));
  app.flushLogs();

  expressApp.set('trust proxy', false); // the client IP is resolved by ClientIpResolver from TRUST_PROXY_CIDRS
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);
  installLeanJsonReply(expressApp.getHttpAdapter() as ExpressAdapter);
  app.use(requestLoggerMiddleware(rootLogger));
  app.use(accessLogMiddleware(rootLogger, app.get(RequestObservers)));
  app.use(securityHeadersMiddleware());
  app.enableCors(apiCorsOptions(config));
  const oauthPaths = new Set(FORM_ENCODED_PATHS.map((p) => `${config.apiPrefix}${p}`));
  const isOAuthPath = (path: string) => oauthPaths.has(path);
  app.use(contentTypeMiddleware(isOAuthPath));
  for (const parser of bodyParsers(config.bodyLimitBytes, isOAuthPath)) app.use(parser);
  // After the body parsers: their `next` runs from the request stream's events, outside any context bound
  // before them. The context then holds through the guards, the handler and its filters.
  app.use(bindRequestLoggerMiddleware);
  app.setGlobalPrefix(config.apiPrefix, {
    exclude: [
      'health',
      'ready',
      'metrics',
      // path-to-regexp 8 syntax (Express 5): a named wildcard, not the legacy `(.*)`.
      '.well-known/{*path}',
    ],
  });
  // GET / (outside the API prefix): the same index as GET /api/v1 (ApiIndexController), for a first visit.
  (expressApp.getHttpAdapter().getInstance() as Application).get('/', apiIndexHandler(config));

  const builder = new DocumentBuilder()
    .setTitle(config.appName)
    .setDescription(openApiDescription(config))
    .setVersion(packageInfo().version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Admin-Key' }, 'admin')
    .addBasicAuth({ type: 'http', scheme: 'basic' }, 'client');
  // Swagger UI lists the tags in this order: the OAuth 2.0 endpoints first, then the management API.
  for (const tag of OPENAPI_TAGS) builder.addTag(tag.name, tag.description);
  const document = SwaggerModule.createDocument(app, builder.build());
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', useGlobalPrefix: false });
  return app;
}
