import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { loadConfig, writeFatalStartupError } from '@agentauth/core';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  loadConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  // SIGTERM/SIGINT close the app: BullMQ workers finish (or hand back) their running job first.
  app.enableShutdownHooks();
  app.get(Logger).log('AgentAuth worker started');
}

bootstrap().catch((error: unknown) => {
  writeFatalStartupError('agentauth-worker', error);
  process.exit(1);
});
