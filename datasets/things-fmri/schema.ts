/** Unit of a noise-ceiling column. */
export type NoiseCeilingUnit = 'percent' | 'fraction';

/** Options of the `things-fmri` dataset (JSON schema with defaults, and the matching TypeScript type). */
export interface ThingsFmriOptions {
  /** Folder holding the THINGS-data single-trial tables (flat, or in a `betas_csv/` subfolder). */
  root: string;
  /**
   * ROIs whose voxels are kept (their union, in the file's voxel order). A name matches the VoxelMetadata column of
   * that name, its hemisphere columns `l<name>`/`r<name>` (merged), and `<name> (prf)`.
   */
  rois: string[];
  /** Average the 12 repeats of each test image into one row (true) or keep one row per test trial (false). */
  averageTestRepeats: boolean;
  /**
   * VoxelMetadata column with each voxel's noise ceiling; absent from the file: no ceiling. Default: the one that
   * matches the test rows — `nc_testset` (12 repeats averaged) or, with `averageTestRepeats: false`, `nc_singletrial`.
   */
  noiseCeilingColumn?: string;
  /** Unit of that column: THINGS-data's are percentages; divided by 100 into core's 0..1 fraction. */
  noiseCeilingUnit: NoiseCeilingUnit;
  /** Optional THINGS image folder (`object_images/<concept>/<file>.jpg`, or the `object_images` folder itself). */
  images?: string;
  /** Height and width the stimuli are resized to. */
  imageSize: number;
  /** Largest single HDF5 read, in MiB (ResponseData is read in voxel slabs below it). */
  maxReadMiB: number;
}

/** The noise-ceiling column to read: the option, else the THINGS-data column that matches the test rows. */
export function noiseCeilingColumn(options: Pick<ThingsFmriOptions, 'noiseCeilingColumn' | 'averageTestRepeats'>): string {
  return options.noiseCeilingColumn ?? (options.averageTestRepeats ? 'nc_testset' : 'nc_singletrial');
}

/** Seed 001 (§2.2, Table 1): early visual cortex V1–hV4 and higher visual cortex VO1, VO2, TO1, TO2, FFA, PPA, LOC. */
export const DEFAULT_ROIS = ['V1', 'V2', 'V3', 'hV4', 'VO1', 'VO2', 'TO1', 'TO2', 'FFA', 'PPA', 'LOC'];

export const thingsFmriOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['root'],
  properties: {
    root: { type: 'string', minLength: 1, 'x-path': true, description: 'folder with sub-XX_ResponseData.h5, sub-XX_VoxelMetadata.csv, sub-XX_StimulusMetadata.csv' },
    rois: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      uniqueItems: true,
      default: DEFAULT_ROIS,
      description: 'ROIs to keep (l/r hemispheres merged), default: V1–hV4 + VO1, VO2, TO1, TO2, FFA, PPA, LOC',
    },
    averageTestRepeats: { type: 'boolean', default: true, description: 'average the repeats of each test image into one row' },
    noiseCeilingColumn: {
      type: 'string',
      minLength: 1,
      description: "VoxelMetadata column with the noise ceiling (default: nc_testset, or nc_singletrial with averageTestRepeats false)",
    },
    noiseCeilingUnit: { enum: ['percent', 'fraction'], default: 'percent', description: "unit of the noise-ceiling column (THINGS-data: 'percent')" },
    images: { type: 'string', minLength: 1, 'x-path': true, description: 'THINGS image folder (object_images/<concept>/<file>.jpg)' },
    imageSize: { type: 'integer', minimum: 8, maximum: 1024, default: 128, description: 'stimulus height and width (pixels)' },
    maxReadMiB: { type: 'integer', minimum: 1, maximum: 1024, default: 64, description: 'largest single HDF5 read (MiB)' },
  },
} as const;

/** The schema's defaults, for code that builds the dataset without core's validation (tests). */
export const thingsFmriDefaults: Omit<ThingsFmriOptions, 'root'> = {
  rois: DEFAULT_ROIS,
  averageTestRepeats: true,
  noiseCeilingUnit: 'percent',
  imageSize: 128,
  maxReadMiB: 64,
};
