/** `models list`, `models check` and the pre-run model check as a user meets them: a child process, exit codes. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelListing } from '../../core/models/check.js';
import { runCli } from '../helpers/cli.js';
import { writeClipFolder, writeNeurodecodeFolder } from '../helpers/models.js';

const PLUGIN = resolve('test/fixtures/model-metric-plugin');
let tmp: string;
let env: Record<string, string>;
const cli = (args: string[]) => runCli(args, tmp, env);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-cli-models-'));
  await writeNeurodecodeFolder(join(tmp, 'models', 'tiny'));
  await writeNeurodecodeFolder(join(tmp, 'models', 'broken'));
  await truncate(join(tmp, 'models', 'broken', 'features.onnx'), 30);
  await writeClipFolder(join(tmp, 'shared-models', 'clip-vit-l-14'));
  await writeFile(join(tmp, 'neurodecode.config.json'), JSON.stringify({ models: { tiny: 'models/tiny', gone: 'models/gone', broken: 'models/broken' } }));
  env = { NEURODECODE_MODELS: join(tmp, 'shared-models') };
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('neurodecode models', () => {
  it('list: configured names and NEURODECODE_MODELS sub-folders, found / missing, with the layout', async () => {
    const { code, stdout } = await cli(['models', 'list', '--json']);
    expect(code).toBe(0);
    const listings = JSON.parse(stdout) as ModelListing[];
    expect(listings.map((m) => [m.name, m.source, m.status, m.layout ?? null])).toEqual([
      ['tiny', 'config', 'found', 'neurodecode'],
      ['gone', 'config', 'missing', null],
      ['broken', 'config', 'found', 'neurodecode'], // list reads the layout only; check opens the graphs
      ['clip-vit-l-14', 'env', 'found', 'transformers-js'],
    ]);
  });

  it('check: every graph run once, with size, digest and provider', async () => {
    const { code, stdout } = await cli(['models', 'check', 'tiny']);
    expect(code).toBe(0);
    const digest = createHash('sha256').update(await readFile(join(tmp, 'models', 'tiny', 'features.onnx'))).digest('hex');
    expect(stdout).toMatch(new RegExp(`features\\s*│\\s*features\\.onnx\\s*│\\s*[\\d.]+ kB\\s*│\\s*${digest}\\s*│\\s*cpu\\s*│\\s*features \\[1×8\\] finite`));
    expect(stdout).toContain('every graph opened, matched its manifest and gave finite outputs');
  });

  it('check: a truncated graph exits 1 naming the file', async () => {
    const broken = await cli(['models', 'check', 'broken']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`${join(tmp, 'models', 'broken', 'features.onnx')}: the ONNX file is truncated`);
  });

  it('run: a model the pipeline needs is checked before the first long step (exit 1 at once, naming it)', async () => {
    const pipeline = join(tmp, 'pipeline.json');
    await writeFile(
      pipeline,
      JSON.stringify({ dataset: { id: 'synthetic', options: { subjects: 1 } }, generator: 'pixels', mappers: { '*': 'ridge' }, metrics: [{ id: 'feature-distance', options: { model: 'gone' } }] }),
    );
    const { code, stderr } = await cli(['run', '--pipeline', pipeline, '--plugin', PLUGIN, '--out', join(tmp, 'out')]);
    expect(code).toBe(1);
    expect(stderr).toContain(`model 'gone' (configured in neurodecode.config.json, for the test feature network) is missing: expected ${join(tmp, 'models', 'gone', 'model.json')}`);
    expect(stderr).not.toContain('fitting');
  });
});
