import { Args, Flags } from '@oclif/core';
import Table from 'cli-table3';
import { UserError } from '../../../core/errors.js';
import { BaseCommand } from '../../base.js';

export default class DatasetsInspect extends BaseCommand<typeof DatasetsInspect> {
  static override summary = 'Show what a dataset holds: subjects, ROIs with voxel counts, train/test counts, images, captions';
  static override examples = ['<%= config.bin %> datasets inspect synthetic', `<%= config.bin %> datasets inspect synthetic --options '{"subjects": 4}'`];
  static override args = { id: Args.string({ description: 'dataset id', required: true }) };
  static override flags = { options: Flags.string({ description: 'dataset options as JSON', default: '{}' }) };

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
    return info;
  }
}
