import { accessSync, constants } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/**
 * A real headless browser for the authorization-code tests (issue #21): Debian's `chromium` driven through
 * playwright-core, which downloads no browser of its own (the binary comes from `CHROMIUM_PATH`, default
 * `/usr/bin/chromium`; `.ci/run` installs the Debian package when it is missing).
 *
 * Without a browser the browser suites are skipped with the reason printed — except under CI (`CI=true`),
 * where a missing browser is a failure: CI is where the flow must be proven, so it never passes silently.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function missingBrowserReason(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    return (
      `no browser at ${CHROMIUM_PATH} (install Debian's chromium: apt-get install -y chromium, ` +
      `or set CHROMIUM_PATH)`
    );
  }
}

const missing = missingBrowserReason();
const inCi = process.env.CI === 'true';

/** Why the browser suites do not run here, or undefined when they do. */
export const browserSkipReason: string | undefined = missing && !inCi ? missing : undefined;

/**
 * `describe` for a suite that needs the browser: `describe.skip` (with the reason printed) when there is no
 * browser outside CI; under CI the suite runs and fails at launch.
 */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (browserSkipReason) {
    // The printed reason is the point: a skip must never be silent.
    console.warn(`[browser] skipping "${name}": ${browserSkipReason}`);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}

/** Launches headless chromium; fails with the reason when the browser is missing (the CI case). */
export async function launchBrowser(): Promise<Browser> {
  if (missing) throw new Error(`CI=true and the browser tests cannot run: ${missing}`);
  const args = ['--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'];
  // Chromium's sandbox needs user namespaces or a setuid helper; as root (CI, containers) it refuses to start
  // without --no-sandbox. The pages under test are our own, served from loopback.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args, timeout: 60_000 });
}

/**
 * One browser per test file, launched before its tests and closed after them; each test asks for a fresh
 * context (its own cookies: a new person at a new browser) with `newContext()`, closed after the test.
 */
export function useBrowser(): { browser(): Browser; newContext(): Promise<BrowserContext> } {
  // A browser test walks several pages, each behind an argon2 key check: on a loaded 2-core machine (the
  // whole suite in parallel) that outgrows jest's 20 s default. Waits inside are on events, not sleeps.
  jest.setTimeout(60_000);
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 90_000);
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
  });
  afterAll(async () => {
    await browser?.close();
  });
  const get = (): Browser => {
    if (!browser) throw new Error('the browser is not launched (useBrowser() inside a describe block)');
    return browser;
  };
  return {
    browser: get,
    async newContext() {
      const context = await get().newContext();
      context.setDefaultTimeout(30_000);
      context.setDefaultNavigationTimeout(30_000);
      contexts.push(context);
      return context;
    },
  };
}
