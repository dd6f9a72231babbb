import './tracing';
import 'reflect-metadata';
import cluster from 'node:cluster';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import {
  APP_CONFIG,
  type AppConfig,
  configureApiApp,
  createScriptLogger,
  describeRuntimeMode,
  loadConfig,
  readEnvironment,
  routeConsoleTo,
  writeFatalStartupError,
} from '@agentauth/core';
import { ApiModule } from './api.module';
import { runClusterPrimary } from './cluster-primary';

async function startApi(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApiApp(app);
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(config.port, config.host);
  // The one start-up line: which mode (embedded or PostgreSQL/Redis), where data lives, API and docs URLs.
  app.get(Logger).log(describeRuntimeMode(config));
}

async function bootstrap(): Promise<void> {
  // Validate configuration before anything else so a bad variable fails with a readable message.
  const config = loadConfig();
  // BullMQ and ioredis print warnings with console.*: they become JSON lines like every other (the primary
  // of a cluster and each API process alike).
  routeConsoleTo(createScriptLogger('agentauth-api', readEnvironment()));
  if (config.apiWorkers > 1 && cluster.isPrimary) {
    runClusterPrimary(config);
    return;
  }
  await startApi();
}

bootstrap().catch((error: unknown) => {
  writeFatalStartupError('agentauth-api', error);
  process.exit(1);
});
