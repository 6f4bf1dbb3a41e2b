/**
 * Turns the options (a spec file, inline fields, or the Brain-Diffuser preset) into absolute sources per subject.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { validateWithSchema } from '../../core/validation.js';
import { specFileSchema, type ArrayRef, type ArraysOptions, type BrainDiffuserPreset, type ImageSpec, type SplitSpec, type SubjectSpec } from './schema.js';
import type { Source } from './sources.js';

export const WHERE = "dataset 'arrays'";

export interface ResolvedSplit {
  fmri: Source;
  stimuli: Source;
  captions?: Source;
  labels?: Source;
}

export interface ResolvedSubject {
  name: string;
  train: ResolvedSplit;
  test: ResolvedSplit;
  rois: Record<string, Source>;
}

export interface ResolvedSpec {
  subjects: ResolvedSubject[];
  /** Undefined: inferred from an image-shaped stimulus array. */
  image?: ImageSpec;
  imageSize?: number;
}

type SpecFields = Pick<ArraysOptions, 'root' | 'file' | 'image' | 'train' | 'test' | 'rois' | 'subjects' | 'imageSize'>;

/** Brain-Diffuser's `data/processed_data/subjXX/` arrays for one subject, as its preparation script names them. */
export function brainDiffuserSubject(subject: number): SubjectSpec {
  const folder = `subj${String(subject).padStart(2, '0')}`;
  const file = (name: string) => join(folder, `${name}_sub${subject}.npy`);
  const split = (s: 'train' | 'test'): SplitSpec => ({
    fmri: file(`nsd_${s}_fmriavg_nsdgeneral`),
    stimuli: file(`nsd_${s}_stim`),
    captions: file(`nsd_${s}_cap`),
  });
  return { train: split('train'), test: split('test') };
}

function brainDiffuserFields(preset: BrainDiffuserPreset): SpecFields {
  const processed = join(preset.root, 'processed_data');
  const subjects = Array.isArray(preset.subject) ? preset.subject : [preset.subject];
  return {
    root: existsSync(processed) ? processed : preset.root,
    // No image declaration: read off the (items, 425, 425, 3) uint8 array, so a miniature works the same way.
    subjects: Object.fromEntries(subjects.map((n) => [`subj${String(n).padStart(2, '0')}`, brainDiffuserSubject(n)])),
  };
}

async function readSpecFile(path: string): Promise<SpecFields> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the spec file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`spec file is not valid JSON: ${(error as Error).message}`, path);
  }
  const fields = validateWithSchema<SpecFields>(specFileSchema, value, path);
  return { ...fields, root: resolve(dirname(path), fields.root ?? '.') };
}

function resolveRef(ref: ArrayRef, root: string, defaultFile: string | undefined, field: string): Source {
  let file: string | undefined;
  let variable: string | undefined;
  if (typeof ref === 'string') {
    const hash = ref.indexOf('#');
    file = hash < 0 ? ref : ref.slice(0, hash) || undefined;
    variable = hash < 0 ? undefined : ref.slice(hash + 1) || undefined;
  } else {
    ({ file, variable } = ref);
  }
  file ??= defaultFile;
  if (!file) throw new UserError(`${field} names no file and there is no default 'file'`, WHERE);
  return { path: isAbsolute(file) ? file : resolve(root, file), variable, field };
}

function resolveSplit(split: SplitSpec, root: string, file: string | undefined, prefix: string): ResolvedSplit {
  const at = (key: keyof SplitSpec) => {
    const ref = split[key];
    return ref === undefined ? undefined : resolveRef(ref, root, file, `${prefix}.${key}`);
  };
  return { fmri: at('fmri')!, stimuli: at('stimuli')!, captions: at('captions'), labels: at('labels') };
}

/** The file of a reference made absolute against `root` (`"#variable"` names no file and stays as it is). */
function absoluteRef(ref: ArrayRef, root: string): ArrayRef {
  const absolute = (file: string) => (isAbsolute(file) ? file : resolve(root, file));
  if (typeof ref !== 'string') return ref.file === undefined ? ref : { ...ref, file: absolute(ref.file) };
  const hash = ref.indexOf('#');
  if (hash === 0) return ref;
  return hash < 0 ? absolute(ref) : `${absolute(ref.slice(0, hash))}${ref.slice(hash)}`;
}

/**
 * The fields with every file made absolute against their own root, before the options and a spec file are merged:
 * each reference stays relative to the file (spec or pipeline) that wrote it.
 */
function absoluteFields(fields: SpecFields, root: string): SpecFields {
  const split = (s: SplitSpec): SplitSpec =>
    Object.fromEntries(Object.entries(s).map(([key, ref]) => [key, absoluteRef(ref as ArrayRef, root)])) as unknown as SplitSpec;
  const rois = (r: Record<string, ArrayRef>) => Object.fromEntries(Object.entries(r).map(([roi, ref]) => [roi, absoluteRef(ref, root)]));
  const file = (f: string | undefined) => (f === undefined ? undefined : resolve(root, f));
  const out: SpecFields = { ...fields, root };
  if (fields.file !== undefined) out.file = file(fields.file);
  if (fields.train) out.train = split(fields.train);
  if (fields.test) out.test = split(fields.test);
  if (fields.rois) out.rois = rois(fields.rois);
  if (fields.subjects) {
    out.subjects = Object.fromEntries(
      Object.entries(fields.subjects).map(([name, s]) => [
        name,
        { ...s, ...(s.file !== undefined ? { file: file(s.file) } : {}), train: split(s.train), test: split(s.test), ...(s.rois ? { rois: rois(s.rois) } : {}) },
      ]),
    );
  }
  return out;
}

/** Spec file fields, overridden field by field by the options (or the preset). */
export async function resolveSpec(options: ArraysOptions): Promise<ResolvedSpec> {
  const sources = [options.spec !== undefined, options.brainDiffuser !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UserError("give either 'spec' or 'brainDiffuser', not both", WHERE);
  const base: SpecFields = options.spec ? await readSpecFile(resolve(options.spec)) : options.brainDiffuser ? brainDiffuserFields(options.brainDiffuser) : {};
  const own = Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in specFileSchema.properties)) as SpecFields;
  const fields: SpecFields = { ...absoluteFields(base, resolve(base.root ?? '.')), ...absoluteFields(own, resolve(own.root ?? '.')) };
  const root = process.cwd();

  const single = fields.train !== undefined || fields.test !== undefined;
  if (single && fields.subjects) throw new UserError("give either 'train'/'test' (one subject) or 'subjects', not both", WHERE);
  if (single && (!fields.train || !fields.test)) throw new UserError(`'${fields.train ? 'test' : 'train'}' is missing: both splits are needed`, WHERE);
  const subjects: Record<string, SubjectSpec> = fields.subjects ?? (single ? { 'sub-01': { train: fields.train!, test: fields.test!, rois: fields.rois } } : {});
  if (Object.keys(subjects).length === 0) {
    throw new UserError("nothing to read: give 'spec' (a JSON file), 'brainDiffuser' ({ root, subject }), or 'train' and 'test'", WHERE);
  }
  return {
    image: fields.image,
    imageSize: fields.imageSize,
    subjects: Object.entries(subjects).map(([name, s]) => {
      const file = s.file ?? fields.file;
      return {
        name,
        train: resolveSplit(s.train, root, file, `${name} train`),
        test: resolveSplit(s.test, root, file, `${name} test`),
        rois: Object.fromEntries(Object.entries(s.rois ?? {}).map(([roi, ref]) => [roi, resolveRef(ref, root, file, `${name} rois.${roi}`)])),
      };
    }),
  };
}
