import { randomUUID } from 'node:crypto';
import { Global, Module } from '@nestjs/common';
import request from 'supertest';
import { BEARER_AUTHENTICATOR, UnauthorizedProblem } from '@agentauth/core';
import { createTestApp } from '../../support/app';
import { testBearer, testBearerAuthenticator } from '../../support/test-bearer';

/** Stands in for the real authenticator a later module registers: refuses every test credential. */
@Global()
@Module({
  providers: [
    {
      provide: BEARER_AUTHENTICATOR,
      useValue: {
        authenticate: async () => Promise.reject(new UnauthorizedProblem('real authenticator says no')),
      },
    },
  ],
  exports: [BEARER_AUTHENTICATOR],
})
class StrictBearerModule {}

/** The harness options other suites rely on: extra modules, and provider overrides that win everywhere. */
describe('createTestApp options', () => {
  const bearer = `Bearer ${testBearer({ rootAgentId: randomUUID() })}`;

  it('overrideProviders replaces an authenticator registered by another module', async () => {
    const strict = await createTestApp({}, { extraModules: [StrictBearerModule] });
    try {
      await request(strict.http).get('/api/v1/webhooks').set('Authorization', bearer).expect(401);
    } finally {
      await strict.close();
    }
    const overridden = await createTestApp(
      {},
      {
        extraModules: [StrictBearerModule],
        overrideProviders: [{ provide: BEARER_AUTHENTICATOR, useValue: testBearerAuthenticator }],
      },
    );
    try {
      await request(overridden.http).get('/api/v1/webhooks').set('Authorization', bearer).expect(200);
    } finally {
      await overridden.close();
    }
  });

  it('describes the webhooks API in the OpenAPI document', async () => {
    const t = await createTestApp();
    try {
      const doc = (await request(t.http).get('/docs-json').expect(200)).body;
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/webhooks',
          '/api/v1/webhooks/{id}',
          '/api/v1/webhooks/{id}/deliveries',
        ]),
      );
      expect(doc.components.schemas.CreateWebhookDto.required).toEqual(
        expect.arrayContaining(['url', 'events']),
      );
    } finally {
      await t.close();
    }
  });
});
