/**
 * External plugins through the real CLI: a folder with no package.json loads as ES modules, and an exception a
 * plugin's code throws is reported as the plugin's (name, source, stage; exit 1), its stack kept for --verbose.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let tmp: string;
const cli = (args: string[], env?: Record<string, string>) => runCli(args, tmp, env);

beforeAll(async () => {
  // Copied outside the repository: here no package.json above the folder declares "type": "module".
  tmp = await mkdtemp(join(tmpdir(), 'nd-plugins-'));
  await cp(resolve('test/fixtures/failing-mapper-plugin'), join(tmp, 'plugin'), { recursive: true });
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function pipelineFailingIn(stage: string): Promise<string> {
  const file = join(tmp, `fail-in-${stage}.json`);
  const dataset = { id: 'synthetic', options: { subjects: 1, trainImages: 40, testImages: 10, voxels: 200 } };
  await writeFile(file, JSON.stringify({ name: stage, dataset, generator: 'pixels', mappers: { '*': { id: 'failing-mean', options: { failIn: stage } } }, metrics: ['mse'], seed: 0 }));
  return file;
}

describe('external plugins', () => {
  it('loads a TypeScript plugin folder that has no package.json, and the modules it imports, as ES modules', async () => {
    const r = await cli(['plugins', 'list', '--kind', 'mapper', '--json', '--plugin', './plugin']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ id: string }>).map((e) => e.id)).toContain('failing-mean');
    const run = await cli(['run', '--pipeline', await pipelineFailingIn('never'), '--plugin', './plugin', '-o', join(tmp, 'out-never')]);
    expect(run.code).toBe(0);
  });

  it('names the plugin, its source and the stage when its register() throws (exit 1)', async () => {
    const r = await cli(['plugins', 'list', '--plugin', './plugin'], { NEURODECODE_TEST_FAIL_IN: 'register' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plugin neurodecode-plugin-failing 0\.0\.1 \(\.\/plugin\) failed in register: deliberate failure in register/);
    expect(r.stderr).not.toMatch(/Internal error|please report/);
    expect(r.stderr).not.toMatch(/index\.ts:\d+/); // the stack only with --verbose
  });

  for (const stage of ['create', 'fit', 'predict']) {
    it(`names the plugin, its source and the stage when ${stage} throws (exit 1; stack with --verbose)`, async () => {
      const args = ['run', '--pipeline', await pipelineFailingIn(stage), '--plugin', './plugin', '--no-cache', '-o', join(tmp, `out-${stage}`)];
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`mapper 'failing-mean' \\(plugin neurodecode-plugin-failing 0\\.0\\.1 from \\./plugin\\) failed in ${stage}: deliberate failure in ${stage}`),
      );
      expect(r.stderr).not.toMatch(/Internal error|please report/);
      const verbose = await cli([...args, '--verbose']);
      expect(verbose.code).toBe(1);
      expect(verbose.stderr).toMatch(/Caused by: Error: deliberate failure/);
      expect(verbose.stderr).toMatch(/plugin[/\\]index\.ts:\d+/);
    });
  }
});
