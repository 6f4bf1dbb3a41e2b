/** The CLI as a user runs it: a child process, exit codes, stdout/stderr. */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../core/io/npy.js';
import { runCli } from '../helpers/cli.js';

const KNN = resolve('test/fixtures/knn-mapper-plugin');
const MLP = resolve('test/fixtures/mlp-mapper-plugin');
let tmp: string;

const cli = (args: string[]) => runCli(args, tmp);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-cli-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('neurodecode CLI', () => {
  it('lists built-in and external plugins as JSON', async () => {
    const { code, stdout } = await cli(['plugins', 'list', '--json', '--plugin', KNN]);
    expect(code).toBe(0);
    const entries = JSON.parse(stdout) as Array<{ kind: string; id: string; source: string }>;
    const ids = entries.map((e) => `${e.kind}:${e.id}`);
    for (const id of ['dataset:synthetic', 'mapper:ridge', 'mapper:knn', 'generator:pixels', 'generator:pca', 'metric:ssim', 'metric:two-way']) {
      expect(ids).toContain(id);
    }
    expect(entries.find((e) => e.id === 'knn')!.source).toBe(KNN);
    expect(ids).toEqual(expect.arrayContaining(['metric set:@brain-diffuser', 'metric set:@mindeye', 'metric set:@mind-reader']));
  });

  it('inspects a metric set: the metrics it expands to, with their options', async () => {
    const r = await cli(['plugins', 'inspect', '@brain-diffuser']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pixcorr \{"convention":"brain-diffuser"\}\n {2}ssim-columns/);
    const typo = await cli(['plugins', 'inspect', '@mind']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/unknown metric set '@mind' \(known: @brain-diffuser, @mindeye, @mind-reader\)/);
  });

  it('inspects a plugin with its defaults, and suggests the closest id of any kind for a typo (exit 1)', async () => {
    const ok = await cli(['plugins', 'inspect', 'ridge']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/folds: integer \(minimum 2\) = 5/);
    const typo = await cli(['plugins', 'inspect', 'rigde']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/no plugin has the id 'rigde'\. Did you mean mapper 'ridge'\?/);
    expect(typo.stderr).not.toMatch(/nsd/);
    expect(typo.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace without --verbose
  });

  it('inspects datasets with required options without needing them, showing bounds and allowed values', async () => {
    for (const id of ['nsd', 'things-fmri']) {
      const r = await cli(['plugins', 'inspect', id]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/root \(required\): string \(non-empty\)/);
      expect(r.stdout).toMatch(/maxReadMiB: integer \(minimum 1, maximum 1024\) = 64/);
    }
    const arrays = await cli(['plugins', 'inspect', 'arrays', '--json']);
    const { options } = JSON.parse(arrays.stdout) as { options: Array<{ path: string; enum?: unknown[]; default?: unknown }> };
    expect(options.find((o) => o.path === 'image.layout')).toMatchObject({ enum: ['HWC', 'CHW', 'F'] });
    // No default: a flattened image's layout defaults by source (MATLAB's column-major for .mat), see datasets/arrays.
    expect(options.find((o) => o.path === 'image.layout')!.default).toBeUndefined();
  });

  it('reports a pipeline file that fails its schema, naming the file and field (exit 1)', async () => {
    const file = join(tmp, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({ dataset: 'synthetic', generator: 'pixels', mappers: { '*': { id: 'ridge', options: { folds: 1 } } }, metrics: ['mse'] }),
    );
    const r = await cli(['run', '--pipeline', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mapper 'ridge' options: \/folds: must be >= 2/);
  });

  it('datasets inspect --scan counts mostly non-finite rows and non-finite voxels', async () => {
    const dir = join(tmp, 'scan');
    await mkdir(dir);
    const fmri = (rows: number, nan: (i: number, v: number) => boolean) =>
      Float32Array.from({ length: rows * 4 }, (_, k) => (nan(Math.floor(k / 4), k % 4) ? NaN : Math.sin(k) + k / 10));
    // Train row 2 is a missing trial (all NaN); voxel 1 is NaN in train row 4 only.
    await writeNpy(join(dir, 'train.npy'), { shape: [6, 4], data: fmri(6, (i, v) => i === 2 || (i === 4 && v === 1)) });
    await writeNpy(join(dir, 'test.npy'), { shape: [3, 4], data: fmri(3, () => false) });
    await writeNpy(join(dir, 'train_stim.npy'), { shape: [6, 2, 2], data: new Float32Array(24).fill(0.5) });
    await writeNpy(join(dir, 'test_stim.npy'), { shape: [3, 2, 2], data: new Float32Array(12).fill(0.5) });
    const options = { root: dir, train: { fmri: 'train.npy', stimuli: 'train_stim.npy' }, test: { fmri: 'test.npy', stimuli: 'test_stim.npy' } };
    const r = await cli(['datasets', 'inspect', 'arrays', '--options', JSON.stringify(options), '--scan']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sub-01: 1 train and 0 test rows mostly non-finite (dropped as missing trials), then 1 non-finite and 0 constant voxels (dropped)');
  });

  it('refuses a comparison in which two files name a pipeline alike, naming both files (exit 1)', async () => {
    const pipeline = { dataset: 'synthetic', generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] };
    const [a, b] = [join(tmp, 'same-a.json'), join(tmp, 'same-b.json')];
    await writeFile(a, JSON.stringify(pipeline));
    await writeFile(b, JSON.stringify({ ...pipeline, seed: 1 }));
    const r = await cli(['compare', a, b]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`two pipelines are named 'ridge→pixels', in ${a} and in ${b}`);
  });

  it('refuses an unwritable output folder before computing anything (exit 1)', async () => {
    const blocker = join(tmp, 'a-file');
    await writeFile(blocker, 'x');
    const r = await cli(['run', '--out', join(blocker, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(`cannot create the folder: ${blocker} is a file, not a folder`);
  });

  it('explains, without hanging, an output or cache folder on a pseudo file system (exit 1)', async () => {
    const out = await cli(['run', '--out', '/proc/nd-out']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^Error: \/proc\/nd-out: cannot create the folder: \/proc is a proc pseudo file system/m);
    const cache = await cli(['run', '--out', join(tmp, 'proc-cache-out'), '--cache-dir', '/proc/nd-cache']);
    expect(cache.code).toBe(1);
    expect(cache.stderr).toMatch(/\/proc\/nd-cache: cannot create the folder: \/proc is a proc pseudo file system/);
    expect(cache.stderr).not.toMatch(/fitting/); // refused before any long step
  });

  it('lists the cache with its producers, and cleans it by kind, orphans included', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'nd-cli-cache-'));
    try {
      const pipeline = join(cwd, 'ridge.json');
      await writeFile(
        pipeline,
        JSON.stringify({
          name: 'ridge',
          dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 30, testImages: 6, imageSize: 32, voxels: 200 } },
          generator: 'pixels',
          mappers: { '*': { id: 'ridge', options: { alpha: 1 } } },
          metrics: ['mse'],
        }),
      );
      expect((await runCli(['run', '--pipeline', pipeline, '--json'], cwd)).code).toBe(0);
      // What an interrupted writer leaves: a temporary named after a process that is gone.
      const orphan = join(cwd, 'cache', 'mappers', `.0123.other-host.1.0badc0de.tmp`);
      await mkdir(orphan, { recursive: true });
      const old = (Date.now() - 7 * 3600e3) / 1000;
      await utimes(orphan, old, old);

      const ls = await runCli(['cache', 'ls', '--json'], cwd);
      expect(ls.code).toBe(0);
      const listing = JSON.parse(ls.stdout) as { entries: Array<{ kind: string; bytes: number; producer?: { kind: string; id: string; version: string; code?: string } }>; orphans: unknown[]; bytes: number };
      expect(listing.entries.map((e) => e.kind)).toEqual(['mappers', 'predictions']);
      expect(listing.entries[0]!.producer).toMatchObject({ kind: 'mapper', id: 'ridge', version: '0.1.0', code: expect.stringMatching(/^[0-9a-f]{16}$/) });
      expect(listing.orphans).toHaveLength(1);
      const table = await runCli(['cache', 'ls'], cwd);
      expect(table.stdout).toMatch(/mapper ridge \(neurodecode-ridge@0\.1\.0, code [0-9a-f]{8}\)/);
      expect(table.stdout).toMatch(/orphaned temporaries of interrupted runs: 1/);
      expect(table.stdout).toMatch(/total: 2 entries/);

      const byKind = await runCli(['cache', 'clean', '--kind', 'predictions'], cwd);
      expect(byKind.stdout).toMatch(/removed 1 entries and 1 orphaned temporaries/);
      const typo = await runCli(['cache', 'clean', '--kind', 'mapper'], cwd);
      expect(typo.code).toBe(1);
      expect(typo.stderr).toMatch(/holds no entries of kind 'mapper' \(it has: mappers\)/);
      expect((await runCli(['cache', 'clean'], cwd)).stdout).toMatch(/removed 1 entries/);
      expect((JSON.parse((await runCli(['cache', 'ls', '--json'], cwd)).stdout) as { entries: unknown[] }).entries).toEqual([]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 300_000); // seven CLI starts

  it('compares an external mapper plugin with ridge, and re-uses the cache on the second run', async () => {
    const ridge = join(tmp, 'ridge.json');
    await writeFile(
      ridge,
      JSON.stringify({
        name: 'ridge→pixels',
        dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 200, testImages: 40 } },
        generator: 'pixels',
        mappers: { '*': 'ridge' },
        metrics: ['mse', 'pixcorr', 'two-way', 'retrieval-forward'],
      }),
    );
    const args = ['compare', ridge, join(KNN, 'pipeline.json'), '--plugin', KNN, '--out', join(tmp, 'out')];
    const first = await cli([...args, '--json']);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as {
      rows: Array<{ pipeline: string; metric: string; target: string; note?: string; value: number }>;
      files: string[];
    };
    expect(new Set(result.rows.map((r) => r.pipeline))).toEqual(new Set(['ridge→pixels', 'knn→pixels']));
    expect(result.rows.every((r) => Number.isFinite(r.value))).toBe(true);
    expect(result.rows.find((r) => r.metric === 'retrieval-forward' && r.target === 'image')!.note).toBe('40-way');
    expect(result.files.map((f) => f.slice(f.lastIndexOf('/out/') + 5))).toEqual(['results.json', 'results.csv', 'grid-subj01.png', 'run.json', 'images/index.json', 'report.html']);
    // --json silences nothing on stderr: one line per stage, and progress as start/done lines (stderr is no TTY).
    expect(first.stderr).toMatch(/^\[ridge→pixels · subj01\] loading synthetic data$/m);
    expect(first.stderr).toMatch(/^\[ridge→pixels · subj01\] fitting ridge → pixels \(200 × \d+ → 12288\)$/m);
    expect(first.stderr).toMatch(/^\[knn→pixels · subj01\] scoring \d metrics/m);
    expect(first.stderr).toMatch(/^pipelines: started \(0\/2\)$/m);
    expect(first.stderr).toMatch(/^pipelines: done \(2\/2, [\d.]+ s\)$/m);
    expect(first.stderr).not.toContain('\u001b['); // no escape codes of progress bars
    const reused = await cli(args);
    expect(reused.code).toBe(1); // the folder holds the first run's results
    expect(reused.stderr).toMatch(/the output folder is not empty .*pass --force to empty it first/);
    const second = await cli([...args, '--force']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/ridge → pixels: re-used fitted model from cache, re-used predictions from cache/);
    // The paper layout: one row per pipeline, the floor as its own row, retrieval's ways in its header.
    expect(second.stdout).toMatch(/^image metrics · subj01$/m);
    expect(second.stdout).toMatch(/│ knn→pixels +│ [\d.]+/);
    expect(second.stdout).toMatch(/│ trivial floor +│/);
    expect(second.stdout).toMatch(/retrieval-forward ↑[^]*40-way/);
  });

  it('run and compare offer --long, the long layout of the table', async () => {
    for (const command of ['run', 'compare']) {
      const { code, stdout } = await cli([command, '--help']);
      expect(code).toBe(0);
      // oclif puts a description beside its flag or, when some flag's is long (--set), below it.
      expect(stdout).toMatch(/--long\s+one table row per subject × metric × target ×\s+pipeline/);
    }
  });

  it('trains an external neural mapper built on the training core, loaded with --plugin', async () => {
    const { code, stdout } = await cli(['compare', join(MLP, 'pipeline.json'), '--plugin', MLP, '--out', join(tmp, 'mlp'), '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { rows: Array<{ pipeline: string; metric: string; target: string; value: number; trivial: number }> };
    const mse = result.rows.find((r) => r.metric === 'mse')!;
    expect(mse.pipeline).toBe('mlp→pca');
    // Learned something: well below the mean-target predictor (22 vs 61 when written).
    expect(mse.value).toBeLessThan(0.6 * mse.trivial);
  });
});
