import './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import {
  createScriptLogger,
  loadConfig,
  readEnvironment,
  routeConsoleTo,
  writeFatalStartupError,
} from '@agentauth/core';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  loadConfig();
  routeConsoleTo(createScriptLogger('agentauth-worker', readEnvironment()));
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  // SIGTERM/SIGINT close the app: the queue workers let their running jobs finish first (JobsWorkerHost).
  app.enableShutdownHooks();
  app.get(Logger).log('AgentAuth worker started');
}

bootstrap().catch((error: unknown) => {
  writeFatalStartupError('agentauth-worker', error);
  process.exit(1);
});
