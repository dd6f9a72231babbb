import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (file: string) =>
  JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * npm ≥ 11.16 warns at every install ("install scripts not yet covered by allowScripts") for each dependency
 * with an install script that package.json's `allowScripts` does not decide; npm 12 blocks them. Every such
 * package of the lock file is decided, and argon2 (a native addon the API cannot run without) is allowed.
 */
describe('install scripts (package.json allowScripts)', () => {
  const pkg = read('package.json');
  const lock = read('package-lock.json');
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));

  it('decides every dependency of the lock file that has an install script', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    const decided = Object.keys(pkg.allowScripts ?? {}).map((key) => key.replace(/(.)@[^@]*$/, '$1'));
    expect(withScripts.filter((name) => !decided.includes(name))).toEqual([]);
  });

  it('allows argon2 (native addon: node-gyp-build picks or builds its binary)', () => {
    expect(pkg.allowScripts.argon2).toBe(true);
  });
});
