/** The shared body of `run` and `compare`: run an experiment, print the table, write the report. */
import { rmdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from '@oclif/core';
import type { ExperimentSpec, PluginRef } from '../core/pipeline.js';
import { BaseCommand } from './base.js';
import { checkDatasetRefs, parseDatasetFlag, replaceDatasets } from './dataset-flag.js';
import { renderResults } from './render.js';

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

export interface DisplayOptions {
  long: boolean;
  limit?: number;
}

export abstract class ExperimentCommand<T extends typeof Command> extends BaseCommand<T> {
  /** The spec with `--dataset` applied (checked against the plugins once the core is built, in runInto). */
  protected withDatasetFlags(spec: ExperimentSpec, values: readonly string[] | undefined): { spec: ExperimentSpec; datasets: PluginRef[] } {
    const datasets = (values ?? []).map(parseDatasetFlag);
    return { spec: replaceDatasets(spec, datasets), datasets };
  }

  protected async runExperiment(
    spec: ExperimentSpec,
    output: { out?: string; force?: boolean },
    gridItems: number,
    display: DisplayOptions = { long: false },
    datasets: readonly PluginRef[] = [],
  ): Promise<unknown> {
    // The runner and the report (sharp, the metrics) load when a run starts, not with every command.
    const { createUniqueOutputDir, prepareOutputDir } = await import('../core/report.js');
    let outDir: string;
    if (output.out === undefined) {
      outDir = await createUniqueOutputDir(resolve('neurodecode-results'), timestamp());
    } else {
      outDir = resolve(output.out);
      await prepareOutputDir(outDir, { force: output.force });
    }
    try {
      return await this.runInto(outDir, spec, gridItems, display, datasets);
    } catch (error) {
      if (output.out === undefined) await rmdir(outDir).catch(() => {}); // a failed run leaves no empty folder behind (only if empty)
      throw error;
    }
  }

  private async runInto(outDir: string, spec: ExperimentSpec, gridItems: number, display: DisplayOptions, datasets: readonly PluginRef[]): Promise<unknown> {
    const [{ resultToJson, writeReport }, { ExperimentRunner }, { writeHtmlReport }, { writeItemImages }, { writeRunRecord }] = await Promise.all([
      import('../core/report.js'),
      import('../core/runner.js'),
      import('./report/index.js'),
      import('./report/item-images.js'),
      import('./report/results-file.js'),
    ]);
    const core = await this.core();
    checkDatasetRefs(datasets, core.registry);
    this.info(this.describeCompute(core));
    const runner = new ExperimentRunner(core, {
      onEvent: (e) => this.info(`[${e.pipeline} · ${e.subject}] ${e.message}`),
      ...(display.limit === undefined ? {} : { limit: display.limit }),
    });
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const result = await runner.run(spec);
    const report = await writeReport(result, outDir, { gridItems });
    // What report.html needs beyond results.json (the run's seeds and times, every item's images), then the page.
    const seconds = (performance.now() - started) / 1000;
    report.files.push(await writeRunRecord(outDir, { experiment: spec, started: startedAt, seconds }));
    report.files.push(await writeItemImages(outDir, result.outcomes));
    report.files.push(await writeHtmlReport(outDir));
    if (!this.jsonEnabled()) {
      this.log(renderResults(result.rows, result.comparisons, { long: display.long, seed: spec.pipelines[0]?.seed ?? 0 }));
      for (const o of result.outcomes) {
        const dropped = o.droppedVoxels.nonFinite + o.droppedVoxels.constant;
        const { train: trainRows, test: testRows } = o.droppedRows;
        this.log(
          `${o.pipeline} · ${o.subject}: ${o.trainItems} train / ${o.testItems} test items` +
            `${trainRows.length + testRows.length > 0 ? ` (${trainRows.length} train and ${testRows.length} test rows dropped as missing trials${testRows.length > 0 ? `, test ids ${testRows.join(', ')}` : ''})` : ''}, ` +
            `${o.voxels} voxels` +
            `${dropped > 0 ? ` (${o.droppedVoxels.nonFinite} non-finite and ${o.droppedVoxels.constant} constant voxels dropped)` : ''}, ` +
            `${o.seconds.toFixed(1)} s`,
        );
      }
      this.log(`results: ${report.files.join(', ')}`);
      this.log(`grid columns (left to right): ${report.gridColumns.join(' | ')}`);
      this.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    return { ...(resultToJson(result) as object), files: report.files };
  }
}
