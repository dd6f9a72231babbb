import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';

describe('OpenAPI description of the scopes and policies endpoints', () => {
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
        'POST /api/v1/scopes',
        'GET /api/v1/scopes',
        'POST /api/v1/policies',
        'GET /api/v1/policies',
        'GET /api/v1/policies/{id}',
        'PATCH /api/v1/policies/{id}',
        'DELETE /api/v1/policies/{id}',
        'POST /api/v1/policies/evaluate',
      ]),
    );
    const schemas = doc.components.schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'CreateScopeDto',
        'ScopeResponse',
        'ScopePageResponse',
        'CreatePolicyDto',
        'UpdatePolicyDto',
        'PolicyResponse',
        'PolicyPageResponse',
        'EvaluatePolicyDto',
        'EvaluationContextDto',
        'PolicyEvaluationResponse',
      ]),
    );
    expect(Object.keys(schemas.CreatePolicyDto.properties).sort()).toEqual(
      [
        'actions',
        'conditions',
        'description',
        'effect',
        'enabled',
        'name',
        'priority',
        'resources',
        'subjects',
      ].sort(),
    );
    expect(schemas.CreatePolicyDto.required.sort()).toEqual(['actions', 'effect', 'name', 'subjects']);
    expect(schemas.PolicyEvaluationResponse.properties.reason.enum).toEqual([
      'agent_inactive',
      'explicit_deny',
      'default_deny',
      'explicit_allow',
      'scope_grant',
    ]);
    const evaluate = doc.paths['/api/v1/policies/evaluate'].post;
    expect(Object.keys(evaluate.responses)).toContain('200');
    expect(evaluate.security).toBeDefined();
  });
});
