import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  APP_CONFIG,
  type AppConfig,
  Clock,
  configureApiApp,
  loadConfig,
  readEnvironment,
} from '@agentauth/core';
import { ApiModule } from '../../apps/api/src/api.module';
import { freePort } from './api-process';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  http: ReturnType<INestApplication['getHttpServer']>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Test-only modules (probe controllers, fakes) imported after ApiModule. */
  extraModules?: Type[];
  /** Providers replaced wherever the app registers them (`overrideProvider(provide).useValue(useValue)`). */
  overrideProviders?: { provide: unknown; useValue: unknown }[];
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
  try {
    await app.init();
  } catch (error) {
    // A start-up that fails half-way (a test expecting it to) has connected Redis clients and pools already:
    // close them, or they keep jest from exiting.
    await app.close().catch(() => undefined);
    throw error;
  }
  return {
    app,
    config,
    http: app.getHttpServer(),
    close: () => app.close(),
  };
}

/** The real API listening on 127.0.0.1 with PUBLIC_BASE_URL = its own address (the issuer a real client discovers). */
export async function listeningApp(
  overrides: Record<string, string> = {},
): Promise<TestApp & { base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ ...overrides, PUBLIC_BASE_URL: base });
  await t.app.listen(port, '127.0.0.1');
  return { ...t, base };
}

/**
 * Two apps sharing this worker's PostgreSQL and Redis (two API processes), created before the describe
 * block's tests and closed after them; every test leaves both clocks reset and every spy restored.
 */
export function twoTestApps(): { a: TestApp; b: TestApp } {
  const apps = {} as { a: TestApp; b: TestApp };
  beforeAll(async () => {
    [apps.a, apps.b] = await Promise.all([createTestApp(), createTestApp()]);
  });
  afterAll(async () => {
    await Promise.all([apps.a.close(), apps.b.close()]);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    apps.a.app.get(Clock).reset();
    apps.b.app.get(Clock).reset();
  });
  return apps;
}
