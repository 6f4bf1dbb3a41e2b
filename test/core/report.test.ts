import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { createUniqueOutputDir, prepareOutputDir, writeReport } from '../../core/report.js';
import type { ExperimentResult } from '../../core/runner.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-report-'));
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

describe('createUniqueOutputDir', () => {
  it('gives runs started in the same second folders of their own', async () => {
    const dirs = await Promise.all(Array.from({ length: 5 }, () => createUniqueOutputDir(join(tmp, 'results'), '2026-12-02_16-00-00')));
    expect(new Set(dirs).size).toBe(5);
    expect((await readdir(join(tmp, 'results'))).sort()).toEqual(['2026-12-02_16-00-00', ...[2, 3, 4, 5].map((n) => `2026-12-02_16-00-00-${n}`)].sort());
  });

  it('bounds and explains a parent it cannot create', async () => {
    await expect(createUniqueOutputDir('/proc/nd-results', 'x')).rejects.toThrow(/\/proc is a proc pseudo file system/);
  });
});

describe('prepareOutputDir', () => {
  it('creates a missing folder and accepts an empty one', async () => {
    await prepareOutputDir(join(tmp, 'new', 'out'));
    await mkdir(join(tmp, 'empty'));
    await prepareOutputDir(join(tmp, 'empty'));
    expect(await readdir(join(tmp, 'new', 'out'))).toEqual([]);
  });

  it('refuses a folder with files, so that old results never mix with new ones', async () => {
    const out = join(tmp, 'out');
    await mkdir(out);
    await writeFile(join(out, 'results.json'), '{}');
    await writeFile(join(out, 'grid-subj02.png'), 'old grid of another subject');
    await expect(prepareOutputDir(out)).rejects.toThrow(`${out}: the output folder is not empty (2 entries): choose a new one, or pass --force to empty it first`);
  });

  it('with force, empties a folder of earlier results first', async () => {
    const out = join(tmp, 'out');
    await mkdir(join(out, 'sub'), { recursive: true });
    await writeFile(join(out, 'results.json'), '{}');
    await writeFile(join(out, 'grid-subj02.png'), 'old');
    await prepareOutputDir(out, { force: true });
    expect(await readdir(out)).toEqual([]);
  });

  it('with force, still refuses a folder that holds no earlier results (a mistyped -o deletes nothing)', async () => {
    await writeFile(join(tmp, 'thesis.tex'), 'precious');
    await expect(prepareOutputDir(tmp, { force: true })).rejects.toThrow(/--force empties only a folder of earlier results \(one with results\.json\)/);
    expect(await readdir(tmp)).toEqual(['thesis.tex']);
  });
});

describe('writeReport', () => {
  it('reports a file-system fault while writing the results as a user error naming the folder', async () => {
    await writeFile(join(tmp, 'file'), 'x');
    const result: ExperimentResult = { name: 'x', version: '0', rows: [], outcomes: [], comparisons: [] };
    const error = await writeReport(result, join(tmp, 'file', 'out'), { gridItems: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/is a file, not a folder/);
  });
});
