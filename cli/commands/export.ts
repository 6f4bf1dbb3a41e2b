import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BaseCommand } from '../base.js';

/** A pipeline, subject or space name as one folder name (no separator, nothing a file system refuses). */
function folderName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = name.replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_').replace(/^\.+$/, '_');
  return safe || '_';
}

export default class Export extends BaseCommand<typeof Export> {
  static override summary = "Copy every fitted mapper of a run out of the cache, as self-contained folders `predict` uses on new fMRI";
  static override examples = ['<%= config.bin %> export --run neurodecode-results/2026-01-01_12-00-00 --out models'];
  static override flags = {
    run: Flags.string({ description: 'a results folder of `run` or `compare` (its results.json)', required: true }),
    out: Flags.string({ description: 'folder of the exported models (default: <run>/models)' }),
    force: Flags.boolean({ description: 'replace models already exported there', default: false }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Export);
    const [{ UserError }, { EXPORTED_MODEL_FORMAT, MAPPER_FILE, MODEL_FOLDER, sha256File }, { writeDirAtomic }] = await Promise.all([
      import('../../core/errors.js'),
      import('../../core/exported-model.js'),
      import('../../core/io/atomic.js'),
    ]);
    type ExportedMapper = import('../../core/exported-model.js').ExportedMapper;
    type Outcome = import('../../core/runner.js').PipelineOutcome;
    const runDir = resolve(flags.run);
    const resultsFile = join(runDir, 'results.json');
    if (!existsSync(resultsFile)) throw new UserError('no results.json: give a results folder of `neurodecode run` or `compare`', runDir);
    let results: { name: string; version: string; outcomes: Outcome[] };
    try {
      results = JSON.parse(await readFile(resultsFile, 'utf8')) as typeof results;
    } catch (error) {
      throw new UserError(`not valid JSON (${(error as Error).message})`, resultsFile);
    }
    if (!Array.isArray(results.outcomes)) throw new UserError('/outcomes: missing (not a results file of neurodecode run or compare)', resultsFile);
    const cacheDir = this.coreConfig().cacheDir;
    if (cacheDir === null) throw new UserError('export copies fitted mappers out of the cache: run it without --no-cache');
    const outDir = resolve(flags.out ?? join(runDir, 'models'));

    const written: string[] = [];
    for (const [o, outcome] of results.outcomes.entries()) {
      const dataset = outcome.provenance.find((p) => p.kind === 'dataset');
      const generator = outcome.provenance.find((p) => p.kind === 'generator');
      for (const [m, mapper] of outcome.mappers.entries()) {
        const field = `/outcomes/${o}/mappers/${m}`;
        const label = `mapper '${mapper.mapper}' → ${mapper.space} of ${outcome.pipeline} (${outcome.subject})`;
        const record = mapper.model;
        if (!record || !dataset) {
          throw new UserError(`${field}: ${label} has no model record (written by neurodecode ${results.version}, before export existed): run the experiment again`, resultsFile);
        }
        const entry = join(cacheDir, 'mappers', record.key);
        const rerun = 'run the experiment again without --no-cache (a rerun re-uses whatever the cache still holds), then export';
        if (mapper.fit === 'disabled') throw new UserError(`${field}: ${label} was fitted with --no-cache, so no fitted model was kept: ${rerun}`, resultsFile);
        const sealFile = join(entry, 'sealed.json');
        if (!existsSync(sealFile)) {
          throw new UserError(`${field}: ${label} is no longer in the cache (mappers/${record.key} under ${cacheDir}: cleaned, or another --cache-dir): ${rerun}`, resultsFile);
        }
        const seal = JSON.parse(await readFile(sealFile, 'utf8')) as { files: Record<string, { size: number; sha256: string }> };
        const target = join(outDir, folderName(outcome.pipeline), folderName(outcome.subject), folderName(mapper.space));
        if (existsSync(target)) {
          if (!flags.force) throw new UserError('already exported here: pass --force to replace it, or choose another --out', target);
          await rm(target, { recursive: true, force: true });
        }
        const exported: ExportedMapper = {
          format: EXPORTED_MODEL_FORMAT,
          mapper: { id: mapper.mapper, options: record.options, plugin: record.plugin, version: record.version, ...(record.code ? { code: record.code } : {}) },
          space: { name: mapper.space, dims: record.dims },
          voxels: record.voxels,
          dataset: { id: dataset.id, options: dataset.options, subject: outcome.subject, plugin: dataset.plugin, version: dataset.version },
          ...(generator ? { generator: { id: generator.id, options: generator.options, plugin: generator.plugin, version: generator.version } } : {}),
          source: { run: runDir, experiment: results.name, pipeline: outcome.pipeline, neurodecode: results.version, cacheKey: record.key, exported: new Date().toISOString() },
          files: {},
        };
        await writeDirAtomic(target, async (dir) => {
          for (const [name, expected] of Object.entries(seal.files)) {
            const to = join(dir, MODEL_FOLDER, name);
            await mkdir(dirname(to), { recursive: true });
            await copyFile(join(entry, name), to);
            // The copy is checked against the cache's seal: a corrupt entry is never exported.
            if ((await sha256File(to)) !== expected.sha256) {
              throw new UserError(`${name} does not match its digest in the cache's seal (corrupt entry): ${rerun}`, entry);
            }
            exported.files[name] = expected;
          }
          await writeFile(join(dir, MAPPER_FILE), `${JSON.stringify(exported, null, 1)}\n`);
        });
        written.push(target);
        this.info(`${label}: ${target}`);
      }
    }
    if (written.length === 0) throw new UserError('the run fitted no mapper', resultsFile);
    this.log(`exported ${written.length} fitted mappers into ${outDir}`);
    return { out: outDir, models: written };
  }
}
