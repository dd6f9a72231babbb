import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { tempDir } from '../../support/api-process';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHECKED_IN = path.join(ROOT, 'libs', 'sdk', 'src', 'management', 'schema.generated.ts');

/**
 * The SDK's management types are generated from the OpenAPI document (`make sdk-types`). This fails as soon as
 * a route, DTO or Swagger decorator changes without regenerating them.
 */
describe('the SDK management types are current with /docs-json', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await createTestApp();
    dir = tempDir('sdk-types');
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('regenerating from the running app gives the checked-in file byte for byte', async () => {
    const document = (await request(t.http).get('/docs-json').expect(200)).body as { openapi: string };
    expect(document.openapi).toMatch(/^3\./);
    const input = path.join(dir, 'openapi.json');
    const output = path.join(dir, 'schema.generated.ts');
    fs.writeFileSync(input, JSON.stringify(document));
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'sdk-openapi-types.mjs'), input, output], {
      cwd: ROOT,
    });
    const fresh = fs.readFileSync(output, 'utf8');
    const current = fs.existsSync(CHECKED_IN) ? fs.readFileSync(CHECKED_IN, 'utf8') : '';
    if (fresh !== current) {
      const keep = path.join(os.tmpdir(), `agentauth-schema.generated.fresh-${process.pid}.ts`);
      fs.copyFileSync(output, keep);
      throw new Error(
        `libs/sdk/src/management/schema.generated.ts is stale: run \`make sdk-types\` (a fresh copy is in ${keep})`,
      );
    }
  });
});
