import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../support/api-process';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The compiled `agentauth` binary, as `bin` in package.json names it. */
export const CLI_MAIN = path.join(
  ROOT,
  (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: { agentauth: string } }).bin
    .agentauth,
);

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A user's shell for the CLI: a HOME and XDG_CONFIG_HOME of its own (so profiles never touch the real ones),
 * no AGENTAUTH_* variables but those given.
 */
export class CliUser {
  readonly home = tempDir('cli-home');
  readonly configHome = path.join(this.home, '.config');

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_CONFIG_HOME: this.configHome,
    };
    return { ...env, ...extra };
  }

  /** Runs `agentauth ...args` to completion. */
  run(args: string[], extraEnv: Record<string, string> = {}, stdin?: string): Promise<CliRun> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI_MAIN, ...args],
        { cwd: this.home, env: this.env(extraEnv), timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (stdin !== undefined) child.stdin?.end(stdin);
      else child.stdin?.end();
    });
  }

  /** Runs a command that must succeed with --json, and returns its parsed output. */
  async json<T = Record<string, unknown>>(args: string[], extraEnv: Record<string, string> = {}): Promise<T> {
    const result = await this.run([...args, '--json'], extraEnv);
    if (result.code !== 0) {
      throw new Error(`agentauth ${args.join(' ')} → ${result.code}\n${result.stdout}\n${result.stderr}`);
    }
    return JSON.parse(result.stdout) as T;
  }

  /** Starts a long-running command (`audit tail --follow`). */
  spawn(args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
    return spawn(process.execPath, [CLI_MAIN, ...args], {
      cwd: this.home,
      env: this.env(extraEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  configFile(): string {
    return path.join(this.configHome, 'agentauth', 'config.json');
  }

  remove(): void {
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
