import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_CONFIG, type AppConfig, configureApiApp, loadConfig, readEnvironment } from '@agentauth/core';
import { ApiModule } from '../../apps/api/src/api.module';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  http: ReturnType<INestApplication['getHttpServer']>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Test-only modules mounted next to the real ApiModule (e.g. probe controllers). */
  extraModules?: Type[];
}

/** The real API module with the production HTTP wiring, configured from this worker's env plus overrides. */
export async function createTestApp(
  overrides: Record<string, string | undefined> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const config = loadConfig({ ...readEnvironment(), ...overrides });
  const moduleRef = await Test.createTestingModule({ imports: [ApiModule, ...(options.extraModules ?? [])] })
    .overrideProvider(APP_CONFIG)
    .useValue(config)
    .compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
  configureApiApp(app);
  await app.init();
  return {
    app,
    config,
    http: app.getHttpServer(),
    close: () => app.close(),
  };
}
