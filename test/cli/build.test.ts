/**
 * The shipped build: `bin` runs compiled JavaScript from dist/ (built by `npm run build`, which `npm ci` runs as
 * `prepare` and `npm test` runs first), npm's configuration is one npm understands, and the start-up bench.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { benchStartup } from '../../core/bench/startup.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};

describe('the build', () => {
  it('is made on install and before the tests, and bin runs it', async () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.test).toMatch(/^npm run build && /);
    expect(existsSync('dist/cli/main.js')).toBe(true);
    expect(readFileSync(pkg.bin.neurodecode!, 'utf8')).toMatch(/dist\/cli\/main\.js/);
    const { stdout } = await promisify(execFile)(process.execPath, [resolve(pkg.bin.neurodecode!), '--version']);
    expect(stdout).toMatch(/^neurodecode\/\d+\.\d+\.\d+ /);
  });

  it("answers --version without oclif, with exactly oclif's text", async () => {
    const run = promisify(execFile);
    const fast = await run(process.execPath, [resolve(pkg.bin.neurodecode!), '--version']);
    const main = pathToFileURL(resolve('dist/cli/main.js')).href;
    const oclif = await run(process.execPath, ['--input-type=module', '-e', `(await import('${main}')).main(['--version'])`]);
    expect(fast.stdout).toBe(oclif.stdout);
  });

  it('ships the non-TypeScript modules the runtime loads next to the compiled ones', () => {
    expect(existsSync('dist/core/io/hdf5-worker.js')).toBe(true);
    expect(existsSync('dist/datasets/nsd/bench-worker.js')).toBe(true);
  });
});

describe('npm configuration', () => {
  it('has no option npm does not know (npm warns "Unknown project config" on every command)', async () => {
    const { stderr } = await promisify(execFile)('npm', ['pkg', 'get', 'name']);
    expect(stderr).not.toMatch(/Unknown (project|user|global) config/);
  });

  it('records an install-script decision for every dependency that has one', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => typeof pkg.allowScripts?.[name] !== 'boolean')).toEqual([]);
    // onnxruntime-node's script only downloads the CUDA provider (CPU binaries ship in the package): offline npm ci.
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
  });
});

describe('bench startup', () => {
  it('times the short commands and measures the peak memory of a run', async () => {
    const r = await benchStartup({ runs: 1, dataset: { subjects: 1, trainImages: 40, testImages: 10, voxels: 200 } });
    expect(r.commands.map((c) => c.command)).toEqual(['--version', '--help', 'plugins list']);
    for (const c of r.commands) expect(c.medianSeconds).toBeGreaterThan(0);
    expect(r.nodeSeconds).toBeGreaterThan(0);
    expect(r.run.peakRssBytes).toBeGreaterThan(20 * 2 ** 20);
  });
});
