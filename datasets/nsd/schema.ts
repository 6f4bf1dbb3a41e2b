/** Options of the `nsd` dataset (JSON schema with defaults, and the matching TypeScript type). */
export type RepeatHandling = 'average' | 'single-trials';
export type VoxelOrder = 'brain-diffuser' | 'native';

export interface NsdOptions {
  /** NSD root: the folder holding `nsddata/`, `nsddata_betas/`, `nsddata_stimuli/`. */
  root: string;
  /** 'brain-diffuser' sets sessions 37, roi nsdgeneral, repeats average, voxelOrder brain-diffuser (explicit options win). */
  preset: 'none' | 'brain-diffuser';
  /** A count N (sessions 1..N, all required) or a list of session numbers; unset: every session present. */
  sessions?: number | number[];
  /** Mask file `roi/<roi>.nii.gz`; voxels with value > 0 are kept. Unset: nsdgeneral. */
  roi?: string;
  betas: string;
  resolution: 'func1pt8mm' | 'func1mm';
  /** Unset: 'average'. The test split is always averaged per image. */
  repeats?: RepeatHandling;
  split: 'shared1000';
  /** Unset: 'native' (file memory order), or 'brain-diffuser' with that preset. */
  voxelOrder?: VoxelOrder;
  /** ROI files whose labels form the atlas (those present are used). */
  atlasRois: string[];
  /** Stimuli are resized to imageSize × imageSize when read (425 = native size; 8,859 train images at 425 are 19 GB as float32). */
  imageSize: number;
  /** COCO captions: a folder with captions_{train,val}2017.json or COCO_73k_annots_curated.npy, or that .npy file. */
  captions?: string;
  /** Largest single HDF5 read, in MiB. */
  maxReadMiB: number;
}

export const DEFAULT_ATLAS_ROIS = ['prf-visualrois', 'prf-eccrois', 'floc-faces', 'floc-bodies', 'floc-places', 'floc-words', 'streams'];

export const nsdOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['root'],
  properties: {
    root: { type: 'string', minLength: 1, 'x-path': true, description: 'NSD root folder (holding nsddata/, nsddata_betas/, nsddata_stimuli/)' },
    preset: { type: 'string', enum: ['none', 'brain-diffuser'], default: 'none', description: "'brain-diffuser': 37 sessions, nsdgeneral, averaged repeats, Brain-Diffuser voxel order" },
    sessions: {
      oneOf: [
        { type: 'integer', minimum: 1, maximum: 40 },
        { type: 'array', items: { type: 'integer', minimum: 1, maximum: 40 }, minItems: 1, uniqueItems: true },
      ],
      description: 'N (sessions 1..N) or a list of session numbers; default: all sessions present (37 with the brain-diffuser preset)',
    },
    roi: { type: 'string', minLength: 1, description: 'mask roi/<roi>.nii.gz, voxels > 0 kept (default nsdgeneral)' },
    betas: {
      type: 'string',
      enum: ['betas_fithrf_GLMdenoise_RR', 'betas_fithrf', 'betas_assumehrf'],
      default: 'betas_fithrf_GLMdenoise_RR',
      description: 'beta version folder',
    },
    resolution: { type: 'string', enum: ['func1pt8mm', 'func1mm'], default: 'func1pt8mm', description: 'functional space' },
    repeats: { type: 'string', enum: ['average', 'single-trials'], description: "train rows: 'average' per image (default) or 'single-trials'; test is always averaged" },
    split: { type: 'string', enum: ['shared1000'], default: 'shared1000', description: 'test = the shared-1000 images' },
    voxelOrder: { type: 'string', enum: ['brain-diffuser', 'native'], description: "'native' = file memory order (default), 'brain-diffuser' = NumPy C order of nibabel's (X,Y,Z) mask" },
    atlasRois: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: DEFAULT_ATLAS_ROIS, description: 'ROI files forming the atlas' },
    imageSize: { type: 'integer', minimum: 1, maximum: 425, default: 128, description: 'stimulus height and width in pixels (425 = native; a split is one in-memory batch)' },
    captions: { type: 'string', minLength: 1, 'x-path': true, description: 'folder or file with COCO captions (captions_{train,val}2017.json or COCO_73k_annots_curated.npy)' },
    maxReadMiB: { type: 'integer', minimum: 1, maximum: 1024, default: 64, description: 'largest single HDF5 read (MiB)' },
  },
} as const;

/** The schema's defaults, for code that builds the dataset without core's validation (tests). */
export const nsdDefaults: Omit<NsdOptions, 'root'> = {
  preset: 'none',
  betas: 'betas_fithrf_GLMdenoise_RR',
  resolution: 'func1pt8mm',
  split: 'shared1000',
  atlasRois: DEFAULT_ATLAS_ROIS,
  imageSize: 128,
  maxReadMiB: 64,
};

export interface ResolvedChoices {
  sessions: number | number[] | 'present';
  roi: string;
  repeats: RepeatHandling;
  voxelOrder: VoxelOrder;
}

/** Explicit options win over the preset, the preset over the built-in defaults. */
export function resolveChoices(options: NsdOptions): ResolvedChoices {
  const bd = options.preset === 'brain-diffuser';
  return {
    sessions: options.sessions ?? (bd ? 37 : 'present'),
    roi: options.roi ?? 'nsdgeneral',
    repeats: options.repeats ?? 'average',
    voxelOrder: options.voxelOrder ?? (bd ? 'brain-diffuser' : 'native'),
  };
}
