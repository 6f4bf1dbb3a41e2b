/**
 * `nsd_expdesign.mat` → which 73k image each trial showed and which rows the trials form. All indices in the file
 * are 1-based; trial t (0-based across sessions, 750 per session) shows `subjectim[sub-1, masterordering[t]-1] - 1`,
 * and `masterordering[t] <= 1000` marks the shared-1000 (test) images. Rows follow Brain-Diffuser's
 * prepare_nsddata.py: images in order of first appearance, train and test separately.
 */
import { UserError } from '../../core/errors.js';
import { matElement, readMat, type MatNumeric, type MatValue } from '../../core/io/mat.js';
import { TRIALS_PER_SESSION } from './layout.js';
import type { RepeatHandling } from './schema.js';

export interface Design {
  masterordering: MatNumeric;
  subjectim: MatNumeric;
}

export interface SplitRows {
  /** 73k image index (0-based) of each row. */
  images: number[];
  /** Global trial indices averaged into each row, ascending. */
  trials: number[][];
}

export interface TrialPlan {
  train: SplitRows;
  test: SplitRows;
  /** For each global trial index read: train row r ≥ 0, or test row as −(r + 1). */
  rowOf: Map<number, number>;
}

function numeric(vars: Record<string, MatValue>, name: string, source: string): MatNumeric {
  const value = vars[name];
  if (!value || value.class === 'char' || value.class === 'cell' || value.class === 'struct') {
    throw new UserError(`variable '${name}' missing or not numeric (expected NSD's design variables masterordering, subjectim)`, source);
  }
  return value as MatNumeric;
}

export async function readDesign(path: string, relative: string): Promise<Design> {
  const vars = await readMat(path);
  const design = { masterordering: numeric(vars, 'masterordering', relative), subjectim: numeric(vars, 'subjectim', relative) };
  if (design.subjectim.shape.length !== 2 || design.subjectim.shape[0]! < 8) {
    throw new UserError(`'subjectim' has shape ${design.subjectim.shape.join('×')}, expected 8×10000`, relative);
  }
  return design;
}

/** The 1-based masterordering value of global trial t, checked against the file's size. */
function master(design: Design, t: number, relative: string): number {
  const length = design.masterordering.data.length;
  if (t >= length) throw new UserError(`'masterordering' has ${length} trials but trial ${t + 1} was needed`, relative);
  return Number(design.masterordering.data[t]);
}

export function planTrials(design: Design, subjectNumber: number, sessions: number[], repeats: RepeatHandling, relative: string): TrialPlan {
  const images = design.subjectim.shape[1]!;
  const train: SplitRows = { images: [], trials: [] };
  const test: SplitRows = { images: [], trials: [] };
  const rowOf = new Map<number, number>();
  const trainRow = new Map<number, number>();
  const testRow = new Map<number, number>();
  for (const session of sessions) {
    for (let t = (session - 1) * TRIALS_PER_SESSION; t < session * TRIALS_PER_SESSION; t++) {
      const m = master(design, t, relative);
      if (!Number.isInteger(m) || m < 1 || m > images) throw new UserError(`masterordering(${t + 1}) = ${m}, expected 1..${images}`, relative);
      const nsdId = Number(matElement(design.subjectim, subjectNumber - 1, m - 1)) - 1;
      const isTest = m <= 1000;
      if (!isTest && repeats === 'single-trials') {
        rowOf.set(t, train.images.length);
        train.images.push(nsdId);
        train.trials.push([t]);
        continue;
      }
      const [rows, index] = isTest ? [test, testRow] : [train, trainRow];
      let row = index.get(nsdId);
      if (row === undefined) {
        row = rows.images.length;
        index.set(nsdId, row);
        rows.images.push(nsdId);
        rows.trials.push([]);
      }
      rows.trials[row]!.push(t);
      rowOf.set(t, isTest ? -(row + 1) : row);
    }
  }
  return { train, test, rowOf };
}
