import { loadConfig } from '@agentauth/core';
import { ApiKeyHasher } from '../../../libs/credentials/src/api-key.hasher';

describe('ApiKeyHasher', () => {
  it("hashes with argon2id at OWASP's minimum cost by default (m=19456 KiB, t=2, p=1)", async () => {
    const hasher = new ApiKeyHasher(loadConfig({ SECRET_KEY: 'a-secret', ADMIN_API_KEY: 'an-admin-key' }));
    const hash = await hasher.hash('the-secret-part-of-a-key');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(hash).not.toContain('the-secret-part-of-a-key');
    await expect(hasher.verify(hash, 'the-secret-part-of-a-key')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'another-secret')).resolves.toBe(false);
  });

  it('follows the configured cost', async () => {
    const hasher = new ApiKeyHasher(
      loadConfig({
        SECRET_KEY: 'a-secret',
        ADMIN_API_KEY: 'an-admin-key',
        ARGON2_MEMORY_KIB: '65536',
        ARGON2_TIME_COST: '3',
        ARGON2_PARALLELISM: '2',
      }),
    );
    expect(await hasher.hash('s')).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=2\$/);
  });
});
