/**
 * Options of the `arrays` dataset. The same fields can come from a JSON spec file (option `spec`), directly from
 * the options, or from the Brain-Diffuser preset; options override the spec file field by field.
 */

/** Where an array lives: `"file.npy"`, `"file.mat#variable"`, `"#variable"` (in the default `file`), or the object form. */
export type ArrayRef = string | { file?: string; variable?: string };

export interface SplitSpec {
  /** items × voxels. */
  fmri: ArrayRef;
  /** One image per item (layout in `image`). */
  stimuli: ArrayRef;
  /** Strings per item: an .npy/.npz unicode array (items or items × k), an HDF5 string dataset, a .mat cell, or a text file (one line per item, tabs between captions). */
  captions?: ArrayRef;
  /** One integer per item (e.g. the digit class), exposed as `stimuli.labels`. */
  labels?: ArrayRef;
}

export interface SubjectSpec {
  /** Default file of this subject's references. */
  file?: string;
  train: SplitSpec;
  test: SplitSpec;
  /** ROI name → boolean/integer vector over voxels (non-zero = in the ROI). */
  rois?: Record<string, ArrayRef>;
}

export type ImageLayout = 'HWC' | 'CHW' | 'F';

export interface ImageSpec {
  /** [H, W, C] or [H, W] for gray. */
  shape: number[];
  /** Largest value of the stored pixels: 255 or 1. Default: 255 for integer arrays, 1 for floating point. */
  range?: 1 | 255;
  /**
   * HWC (row-major), CHW (channels first), or F (MATLAB column-major flattening of the H×W×C image). Default:
   * F for flattened rows read from a .mat file (MATLAB's own order), HWC otherwise.
   */
  layout?: ImageLayout;
}

export interface BrainDiffuserPreset {
  /** Brain-Diffuser's `data` folder (holding `processed_data/`), or `processed_data` itself. */
  root: string;
  /** Subject number(s) 1–8: subject n is named `subj0n`. */
  subject: number | number[];
}

export interface ArraysOptions {
  /** Path of a JSON spec file with the fields below; relative paths in it are relative to its folder. */
  spec?: string;
  brainDiffuser?: BrainDiffuserPreset;
  /**
   * Folder that the references given in the options are resolved against (default: the folder of the pipeline file
   * giving them, else the working directory). A spec file's references are relative to the spec file (and its root).
   */
  root?: string;
  /** Default file of every reference that names none. */
  file?: string;
  image?: ImageSpec;
  /** One subject named `sub-01`… */
  train?: SplitSpec;
  test?: SplitSpec;
  rois?: Record<string, ArrayRef>;
  /** …or several, one file set each. */
  subjects?: Record<string, SubjectSpec>;
  /** Downscale images to imageSize × imageSize (area average) while streaming them. */
  imageSize?: number;
  /** Refuse to build an image batch larger than this many bytes of float32 (suggesting `imageSize`). */
  maxImageBytes: number;
  /** fMRI rows read per step when streaming. */
  chunkRows: number;
}

const ref = {
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'object', additionalProperties: false, properties: { file: { type: 'string' }, variable: { type: 'string' } } },
  ],
} as const;

const split = {
  type: 'object',
  additionalProperties: false,
  required: ['fmri', 'stimuli'],
  properties: { fmri: ref, stimuli: ref, captions: ref, labels: ref },
} as const;

const rois = { type: 'object', additionalProperties: ref } as const;

export const imageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['shape'],
  properties: {
    shape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 3 },
    range: { enum: [1, 255] },
    layout: { enum: ['HWC', 'CHW', 'F'], description: 'default: F for flattened rows from a .mat file, HWC otherwise' },
  },
} as const;

/** Fields shared by the options and the spec file. */
const specProperties = {
  root: { type: 'string', description: 'folder relative paths are resolved against' },
  file: { type: 'string', description: 'default file of references that name none' },
  image: imageSchema,
  train: split,
  test: split,
  rois,
  subjects: {
    type: 'object',
    minProperties: 1,
    additionalProperties: {
      type: 'object',
      additionalProperties: false,
      required: ['train', 'test'],
      properties: { file: { type: 'string' }, train: split, test: split, rois },
    },
  },
  imageSize: { type: 'integer', minimum: 1, maximum: 4096, description: 'downscale images to imageSize² while streaming' },
} as const;

export const specFileSchema = { type: 'object', additionalProperties: false, properties: specProperties } as const;

export const arraysOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    spec: { type: 'string', 'x-path': true, description: 'JSON spec file describing the arrays' },
    brainDiffuser: {
      type: 'object',
      additionalProperties: false,
      required: ['root', 'subject'],
      description: "Brain-Diffuser's prepared processed_data/subjXX/*.npy",
      properties: {
        root: { type: 'string', 'x-path': true },
        subject: {
          oneOf: [
            { type: 'integer', minimum: 1, maximum: 8 },
            { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1, maximum: 8 } },
          ],
        },
      },
    },
    ...specProperties,
    // In a pipeline file, references given inline are relative to that file's folder unless `root` says otherwise.
    root: { type: 'string', 'x-path': 'default-base', description: 'folder the references given in the options are relative to (default: the pipeline file\'s folder)' },
    maxImageBytes: { type: 'integer', minimum: 1, default: 4 * 1024 ** 3, description: 'largest float32 image batch built (bytes)' },
    chunkRows: { type: 'integer', minimum: 1, default: 256, description: 'rows read per streaming step' },
  },
} as const;

export const arraysDefaults: Pick<ArraysOptions, 'maxImageBytes' | 'chunkRows'> = { maxImageBytes: 4 * 1024 ** 3, chunkRows: 256 };
