import { execFile } from 'node:child_process';
import { join } from 'node:path';

const RUNNER = join(__dirname, 'openid-client', 'run.mjs');

/** What the runner prints (test/support/openid-client/run.mjs); the parts a mode does not produce are absent. */
export interface OpenIdClientResult {
  error?: { name?: string; message?: string; code?: string; cause?: string | null };
  metadata: Record<string, string | string[]>;
  tokens: Record<string, string>;
  refreshed: Record<string, string>;
  introspection: Record<string, unknown>;
  resource: { status: number; body: Record<string, unknown> };
  dpopJwk: Record<string, string>;
}

/**
 * Runs the real openid-client 6 (ESM-only: Jest's CommonJS mode cannot load it) in a child Node process
 * against an API listening on a socket (`issuer` = its PUBLIC_BASE_URL). Async, so this process keeps
 * serving the requests the child makes. Resolves with the runner's JSON (`{error}` when the client threw).
 */
export function runOpenIdClient(scenario: Record<string, unknown>): Promise<OpenIdClientResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [RUNNER, JSON.stringify(scenario)],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as OpenIdClientResult);
        } catch {
          reject(new Error(`openid-client runner: ${error?.message ?? ''} ${stderr} ${stdout}`));
        }
      },
    );
  });
}
