import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoBaseLogger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { requestLoggerMiddleware } from '../logging/request-logger';
import { ROOT_LOGGER } from '../logging/logging.module';
import { accessLogMiddleware } from './access-log.middleware';
import { bodyParsers } from './body-parsers';
import { contentTypeMiddleware } from './content-type.middleware';
import { RequestObservers } from './request-observers';
import { securityHeadersMiddleware } from './security-headers';

/** The OAuth endpoints (below the API prefix): form-encoded bodies allowed, RFC 6749 error bodies. */
export const FORM_ENCODED_PATHS = ['/auth/token', '/auth/token/introspect', '/auth/token/revoke'];

/**
 * Everything HTTP-level the API needs, shared by `main.ts` and the integration tests so tests exercise
 * exactly the production wiring.
 */
export function configureApiApp(app: INestApplication): INestApplication {
  const expressApp = app as NestExpressApplication;
  const config = app.get<AppConfig>(APP_CONFIG);
  const logger = app.get(Logger);
  const rootLogger = app.get<PinoBaseLogger>(ROOT_LOGGER);
  app.useLogger(logger);
  app.flushLogs();

  expressApp.set('trust proxy', false); // the client IP is resolved by ClientIpResolver from TRUST_PROXY_CIDRS
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);
  app.use(requestLoggerMiddleware(rootLogger));
  app.use(accessLogMiddleware(rootLogger, app.get(RequestObservers)));
  app.use(securityHeadersMiddleware());
  app.enableCors({
    origin: config.corsOrigins === '*' ? '*' : config.corsOrigins,
    exposedHeaders: [
      'X-Request-ID',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ],
  });
  const oauthPaths = new Set(FORM_ENCODED_PATHS.map((p) => `${config.apiPrefix}${p}`));
  const isOAuthPath = (path: string) => oauthPaths.has(path);
  app.use(contentTypeMiddleware(isOAuthPath));
  for (const parser of bodyParsers(config.bodyLimitBytes, isOAuthPath)) app.use(parser);
  app.setGlobalPrefix(config.apiPrefix, {
    exclude: [
      'health',
      'ready',
      'metrics',
      '.well-known/(.*)',
      '.well-known/agent-configuration',
      '.well-known/oauth-authorization-server',
      '.well-known/oauth-protected-resource',
      '.well-known/oauth-protected-resource/*path',
    ],
  });
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(config.appName)
      .setDescription(
        'Identity and authentication for AI agents: OAuth 2.0 grants, agent hierarchy, API keys, policies, delegations and audit.',
      )
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Admin-Key' }, 'admin')
      .addBasicAuth({ type: 'http', scheme: 'basic' }, 'client')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', useGlobalPrefix: false });
  return app;
}
