import './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import {
  createScriptLogger,
  loadConfig,
  QuietFrameworkLogger,
  readEnvironment,
  routeConsoleTo,
  stopOnSignals,
  writeFatalStartupError,
} from '@agentauth/core';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  loadConfig();
  routeConsoleTo(createScriptLogger('agentauth-worker', readEnvironment()));
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(new QuietFrameworkLogger(logger));
  app.flushLogs();
  // SIGTERM/SIGINT close the app (the queue workers let their running jobs finish first: JobsWorkerHost),
  // then the process exits 0.
  stopOnSignals(app, (error) => logger.error(error, 'shutdown failed'));
  logger.log('AgentAuth worker started');
}

bootstrap().catch((error: unknown) => {
  writeFatalStartupError('agentauth-worker', error);
  process.exit(1);
});
