import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxSessions } from '../../../core/compute/onnx.js';
import { CONFIG_FILE, resolveConfig } from '../../../core/config.js';
import { ModelStore } from '../../../core/models/store.js';
import { userErrorOf } from '../../helpers/errors.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nd-model-store-'));
  await mkdir(join(root, 'env', 'alexnet'), { recursive: true });
  await mkdir(join(root, 'env', 'clip'), { recursive: true });
  await writeFile(join(root, 'env', 'not-a-folder.txt'), '');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sessions = createOnnxSessions({ threads: 1 });
const store = (configured: Record<string, string>, modelsDir?: string) => new ModelStore({ cwd: root, configured, modelsDir }, sessions);

describe('naming model folders', () => {
  it('"models" in neurodecode.config.json: relative paths resolve against the config file\'s folder; NEURODECODE_MODELS is read', async () => {
    const project = join(root, 'project');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, CONFIG_FILE), JSON.stringify({ models: { alexnet: 'models/alexnet', clip: '/abs/clip' } }));
    const config = resolveConfig({}, project, { NEURODECODE_MODELS: '../env' });
    expect(config.models).toEqual({ alexnet: join(project, 'models', 'alexnet'), clip: '/abs/clip' });
    expect(config.modelsDir).toBe(join(root, 'env'));
    expect(resolveConfig({}, project, {}).modelsDir).toBeUndefined();
  });

  it('a config "models" entry that is not a path string is refused, naming the file and field', async () => {
    const project = join(root, 'bad-config');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, CONFIG_FILE), JSON.stringify({ models: { alexnet: 3 } }));
    const error = await userErrorOf(() => resolveConfig({}, project, {}));
    expect(error.message).toContain(join(project, CONFIG_FILE));
    expect(error.message).toContain('/models/alexnet: must be string');
  });

  it('precedence: a plugin option path > the config file > NEURODECODE_MODELS', () => {
    const s = store({ alexnet: '/configured/alexnet' }, join(root, 'env'));
    expect(s.named()).toEqual([
      { name: 'alexnet', dir: '/configured/alexnet', source: 'config' },
      { name: 'clip', dir: join(root, 'env', 'clip'), source: 'env' },
    ]);
    expect(s.resolve('alexnet', 'metric x')).toEqual({ name: 'alexnet', dir: '/configured/alexnet', source: 'config' });
    expect(s.resolve('clip', 'metric x')).toEqual({ name: 'clip', dir: join(root, 'env', 'clip'), source: 'env' });
    expect(s.resolve('./mine/alexnet', 'metric x')).toEqual({ name: 'alexnet', dir: join(root, 'mine', 'alexnet'), source: 'option' });
    expect(s.resolve('/opt/models/alexnet-v2', 'metric x').dir).toBe('/opt/models/alexnet-v2');
  });

  it('an unknown name lists the configured names and the three ways to name one', async () => {
    const error = await userErrorOf(() => store({ alexnet: '/a' }, join(root, 'env')).resolve('swav', "metric 'swav'", 'python3 metrics/swav/export.py --out <folder>'));
    expect(error.message).toContain("metric 'swav': model 'swav' is not configured; configured names: alexnet, clip.");
    expect(error.message).toContain('"models": { "swav": "<folder>" }');
    expect(error.message).toContain('NEURODECODE_MODELS');
    expect(error.message).toContain('"model": "<folder>"');
    expect(error.message).toContain('make the folder with: python3 metrics/swav/export.py --out <folder>');
    expect((await userErrorOf(() => store({}).resolve('swav', 'x'))).message).toContain('configured names: none');
  });

  it('NEURODECODE_MODELS naming a folder that does not exist is said', async () => {
    const missing = join(root, 'no-such-models');
    const error = await userErrorOf(() => store({}, missing).resolve('alexnet', 'x'));
    expect(error.message).toContain(`${missing}: NEURODECODE_MODELS names a folder that does not exist`);
  });
});
