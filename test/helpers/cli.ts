/**
 * The CLI as a user runs it — the shipped bin, which runs the compiled build in dist/ (`npm test` builds it first):
 * a child process in `cwd` with its own cache folder (unless `args` name one); exit code, stdout and stderr.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const BIN = resolve('cli/bin/neurodecode.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `env` adds variables to (or, as undefined, removes them from) the test process's environment. */
export async function runCli(args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const cache = args.includes('--cache-dir') || args.includes('--no-cache') ? [] : ['--cache-dir', join(cwd, 'cache')];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args, ...cache], {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
