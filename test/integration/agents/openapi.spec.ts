import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';

describe('OpenAPI description of the agents and credentials endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('documents every route with its schemas', async () => {
    const doc = (await request(t.http).get('/docs-json').expect(200)).body;
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /api/v1/agents/bootstrap',
        'POST /api/v1/agents',
        'GET /api/v1/agents',
        'GET /api/v1/agents/{id}',
        'PATCH /api/v1/agents/{id}',
        'DELETE /api/v1/agents/{id}',
        'POST /api/v1/credentials',
        'GET /api/v1/credentials',
        'POST /api/v1/credentials/{id}/rotate',
        'DELETE /api/v1/credentials/{id}',
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'CreateAgentDto',
        'UpdateAgentDto',
        'AgentResponse',
        'CreateCredentialDto',
        'IssuedCredentialResponse',
      ]),
    );
    expect(Object.keys(doc.components.schemas.UpdateAgentDto.properties)).not.toContain('trust_level');
  });
});
