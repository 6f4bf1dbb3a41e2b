import { Args, Flags } from '@oclif/core';
import Table from 'cli-table3';
import { UserError } from '../../../core/errors.js';
import { dropUnusableVoxels } from '../../../core/preprocess.js';
import { BaseCommand } from '../../base.js';

export default class DatasetsInspect extends BaseCommand<typeof DatasetsInspect> {
  static override summary = 'Show what a dataset holds: subjects, ROIs with voxel counts, train/test counts, images, captions';
  static override examples = ['<%= config.bin %> datasets inspect synthetic', `<%= config.bin %> datasets inspect synthetic --options '{"subjects": 4}'`];
  static override args = { id: Args.string({ description: 'dataset id', required: true }) };
  static override flags = {
    options: Flags.string({ description: 'dataset options as JSON', default: '{}' }),
    scan: Flags.boolean({
      description: "load every subject and count what core's preprocessing drops: non-finite rows (missing trials) and non-finite or constant voxels (reads all the data the first time; cached after)",
      default: false,
    }),
  };

  async run(): Promise<unknown> {
    const { args } = await this.parse(DatasetsInspect);
    let options: unknown;
    try {
      options = JSON.parse(this.flags.options);
    } catch (error) {
      throw new UserError(`--options is not valid JSON: ${(error as Error).message}`);
    }
    const core = await this.core();
    const { instance } = await core.registry.create('dataset', args.id, options);
    const info = await instance.describe();
    this.log(`dataset '${info.id}': ${info.subjects.length} subjects, images ${info.imageShape.join('×')}, captions: ${info.captions ? 'yes' : 'no'}`);
    const rois = [...new Set(info.summaries.flatMap((s) => Object.keys(s.rois)))];
    const table = new Table({ head: ['subject', 'train', 'test', 'voxels', ...rois], style: { head: [], border: [] } });
    for (const s of info.summaries) table.push([s.subject, s.trainItems, s.testItems, s.voxels, ...rois.map((r) => s.rois[r] ?? 0)]);
    this.log(table.toString());
    for (const note of info.notes) this.log(`· ${note}`);
    if (!this.flags.scan) return info;
    const scan = [];
    for (const subject of info.subjects) {
      const { dropped, droppedRows } = dropUnusableVoxels(await instance.load(subject));
      scan.push({ subject, nonFiniteRows: { train: droppedRows.train.length, test: droppedRows.test.length }, nonFiniteVoxels: dropped.nonFinite, constantVoxels: dropped.constant });
      this.log(
        `${subject}: ${droppedRows.train.length} train and ${droppedRows.test.length} test rows mostly non-finite (dropped as missing trials` +
          `${droppedRows.test.length > 0 ? `; test ids ${droppedRows.test.join(', ')}` : ''}), then ${dropped.nonFinite} non-finite and ${dropped.constant} constant voxels (dropped)`,
      );
    }
    return { ...info, scan };
  }
}
