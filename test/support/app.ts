import type { INestApplication, Provider, Type } from '@nestjs/common';
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
  /** Modules imported beside ApiModule (test-only providers and controllers, e.g. TestBearerModule). */
  extraModules?: Type[];
  /** Providers replaced wherever they are defined (`.overrideProvider(provide).useValue(useValue)`). */
  overrideProviders?: { provide: Exclude<Provider, Type>['provide']; useValue: unknown }[];
}

/** The real API module with the production HTTP wiring, configured from this worker's env plus overrides. */
export async function createTestApp(
  overrides: Record<string, string | undefined> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const config = loadConfig({ ...readEnvironment(), ...overrides });
  let builder = Test.createTestingModule({ imports: [ApiModule, ...(options.extraModules ?? [])] })
    .overrideProvider(APP_CONFIG)
    .useValue(config);
  for (const { provide, useValue } of options.overrideProviders ?? []) {
    builder = builder.overrideProvider(provide).useValue(useValue);
  }
  const moduleRef = await builder.compile();
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
