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
  exampleSecretWarnings,
  loadConfig,
  readEnvironment,
  routeConsoleTo,
  stopOnSignals,
  writeFatalStartupError,
} from '@agentauth/core';
import { ApiModule } from './api.module';
import { runClusterPrimary } from './cluster-primary';

async function startApi(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, {
    bufferLogs: true,
    bodyParser: false,
    // A failure while the modules start (e.g. PostgreSQL refusing connections) reaches bootstrap's catch,
    // which says what to do in one JSON line, instead of Nest's handler printing the buffered start-up logs
    // and a stack as plain text and exiting (configureApiApp flushes the buffer into the JSON logger).
    abortOnError: false,
    autoFlushLogs: false,
  });
  configureApiApp(app);
  const config = app.get<AppConfig>(APP_CONFIG);
  const logger = app.get(Logger);
  stopOnSignals(app, (error) => logger.error(error, 'shutdown failed'));
  await app.listen(config.port, config.host).catch(async (error: unknown) => {
    // e.g. EADDRINUSE: close what started (the embedded PostgreSQL above all) before the fatal line.
    await app.close().catch(() => undefined);
    throw error;
  });
  for (const warning of exampleSecretWarnings(config)) logger.warn(warning);
  // The one start-up line, the last before requests: the mode, where data lives, API and docs URLs.
  logger.log(describeRuntimeMode(config));
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
