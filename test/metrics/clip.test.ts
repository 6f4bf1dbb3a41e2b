import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';
import { writeClipVisionFolder } from '../helpers/models.js';

function spec(options: Record<string, unknown> = {}): ExperimentSpec {
  return parseSpecFile(
    {
      pipelines: [
        {
          name: 'p',
          dataset: { id: 'synthetic', options: { subjects: 1, testImages: 20, trainImages: 300, voxels: 400, imageSize: 32 } },
          generator: 'pixels',
          mappers: { '*': 'ridge' },
          metrics: [{ id: 'clip', options }],
        },
      ],
    },
    'test',
  );
}

let core: TestCore | undefined;
let dir: string | undefined;
afterEach(async () => {
  await core?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
  core = dir = undefined;
});

describe('clip metric', () => {
  it('runs end to end on a transformers.js folder with the image_embeds signature, in both conventions', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nd-clip-'));
    const folder = await writeClipVisionFolder(join(dir, 'clip'));
    core = await makeTestCore({ models: { 'clip-vit-large-patch14': folder } });
    for (const convention of ['brain-diffuser', 'mindeye']) {
      const result = await new ExperimentRunner(core).run(spec({ convention }));
      const row = result.rows.find((r) => r.metric === 'clip' && r.subject !== 'mean')!;
      expect(row).toMatchObject({ target: 'image', direction: 'higher' });
      // ridge reconstructions of the synthetic scenes are identified above chance (0.5) on their colour means
      expect(row.value!).toBeGreaterThan(0.6);
      expect(row.value!).toBeLessThanOrEqual(1);
    }
  });

  it('an unconfigured model is refused at start, naming export.py', async () => {
    core = await makeTestCore();
    const outcome = new ExperimentRunner(core).run(spec());
    await expect(outcome).rejects.toThrow(/metric 'clip' in p: model 'clip-vit-large-patch14' is not configured/);
    await expect(outcome).rejects.toThrow(/metrics\/clip\/export\.py/);
  });

  it('a CLIPVisionModel export without image_embeds is refused, naming the outputs found', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nd-clip-'));
    const folder = await writeClipVisionFolder(join(dir, 'noproj'), { projection: false });
    core = await makeTestCore({ models: { 'clip-vit-large-patch14': folder } });
    await expect(new ExperimentRunner(core).run(spec())).rejects.toThrow(/output 'image_embeds': missing.*outputs: pooler_output/);
  });
});
