import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BaseCommand } from '../base.js';

export default class Predict extends BaseCommand<typeof Predict> {
  static override summary = 'Predict a target space from new fMRI with a mapper exported by `export`';
  static override examples = ['<%= config.bin %> predict --model models/ridge→pca/subj01/pca --fmri new.npy --out pred.npy'];
  static override flags = {
    model: Flags.string({ description: 'an exported mapper folder (<out>/<pipeline>/<subject>/<space>, with mapper.json)', required: true }),
    fmri: Flags.string({ description: ".npy of items × the dataset's voxels (before preprocessing), as its dataset plugin delivers them", required: true }),
    out: Flags.string({ description: 'the predictions, items × dims float32 .npy (default: <fmri>.<space>.npy beside it)' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Predict);
    const [{ UserError }, { MODEL_FOLDER, mapperInput, readExportedMapper }, { readNpy, writeNpy }, { TOKENS }, { rethrowFileSystemError }] = await Promise.all([
      import('../../core/errors.js'),
      import('../../core/exported-model.js'),
      import('../../core/io/npy.js'),
      import('../../core/tokens.js'),
      import('../../core/io/folders.js'),
    ]);
    type Services = import('../../core/services.js').PluginServices;
    const folder = resolve(flags.model);
    const model = await readExportedMapper(folder);
    const fmriFile = resolve(flags.fmri);
    if (!existsSync(fmriFile)) throw new UserError('no such file', fmriFile);
    let array: Awaited<ReturnType<typeof readNpy>>;
    try {
      array = await readNpy(fmriFile, { float32: true });
    } catch (error) {
      throw new UserError(`not a readable .npy array (${(error as Error).message})`, fmriFile);
    }
    if (array.shape.length !== 2 || !(array.data instanceof Float32Array)) {
      throw new UserError(`expected a 2-D numeric array of items × ${model.voxels.of} voxels, found shape (${array.shape.join(', ')})`, fmriFile);
    }
    const X = mapperInput({ rows: array.shape[0]!, cols: array.shape[1]!, data: array.data }, model.voxels, fmriFile);

    const core = await this.core();
    const { id, plugin, version, code } = model.mapper;
    if (!core.registry.list('mapper').some((c) => c.contribution.id === id)) {
      throw new UserError(`the model needs mapper '${id}' of plugin ${plugin}@${version}, which is not loaded: pass --plugin <its folder or npm package>`, folder);
    }
    const now = core.registry.provenance('mapper', id, model.mapper.options);
    if (now.plugin !== plugin || now.version !== version || (code !== undefined && now.code !== code)) {
      this.info(`warning: the model was saved by ${plugin}@${version}${code ? ` (code ${code.slice(0, 8)})` : ''}; loading it with ${now.plugin}@${now.version}${now.code ? ` (code ${now.code.slice(0, 8)})` : ''}`);
    }
    const services = core.container.get<Services>(TOKENS.Services);
    const fitted = await core.registry.factory('mapper', id).load(join(folder, MODEL_FOLDER), services);
    const predicted = await fitted.predict(X);
    const where = `mapper '${id}' (${folder})`;
    if (predicted.rows !== X.rows || predicted.cols !== model.space.dims) {
      throw new UserError(`predicted ${predicted.rows} × ${predicted.cols}, expected ${X.rows} × ${model.space.dims} (${model.space.name})`, where);
    }
    for (let i = 0; i < predicted.data.length; i++) {
      if (!Number.isFinite(predicted.data[i]!)) throw new UserError(`prediction holds a non-finite value at row ${Math.floor(i / predicted.cols)}`, where);
    }
    const out = resolve(flags.out ?? join(dirname(fmriFile), `${basename(fmriFile, '.npy')}.${model.space.name}.npy`));
    await writeNpy(out, { shape: [predicted.rows, predicted.cols], data: predicted.data }).catch((error: unknown) => rethrowFileSystemError(error, 'write the predictions', out)); // atomic
    this.log(`${predicted.rows} × ${predicted.cols} predictions of ${model.space.name} (${model.dataset.id} ${model.dataset.subject}, ${id}): ${out}`);
    return { out, rows: predicted.rows, dims: predicted.cols, space: model.space.name };
  }
}
