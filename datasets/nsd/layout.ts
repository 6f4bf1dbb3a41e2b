/** Where NSD's files live under the root (the layout of the official download), and subject names. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';

export const NSD_SUBJECTS = ['subj01', 'subj02', 'subj03', 'subj04', 'subj05', 'subj06', 'subj07', 'subj08'] as const;
export const TRIALS_PER_SESSION = 750;
export const MAX_SESSIONS = 40;

export interface Where {
  betas: string;
  resolution: string;
}

export const paths = {
  design: 'nsddata/experiments/nsd/nsd_expdesign.mat',
  stimInfo: 'nsddata/experiments/nsd/nsd_stim_info_merged.csv',
  stimuli: 'nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5',
  betasDir: (subject: string, w: Where) => `nsddata_betas/ppdata/${subject}/${w.resolution}/${w.betas}`,
  session: (subject: string, session: number, w: Where, ext: 'hdf5' | 'nii.gz') =>
    `${paths.betasDir(subject, w)}/betas_session${String(session).padStart(2, '0')}.${ext}`,
  roi: (subject: string, name: string, w: Where) => `nsddata/ppdata/${subject}/${w.resolution}/roi/${name}.nii.gz`,
  ctab: (subject: string, name: string) => `nsddata/freesurfer/${subject}/label/${name}.mgz.ctab`,
};

export interface LocatedFile {
  /** Relative to the root (as written in cache keys and messages). */
  relative: string;
  path: string;
  size: number;
  mtimeMs: number;
}

export function locate(root: string, relative: string): LocatedFile | undefined {
  const path = join(root, relative);
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  return stat.isFile() ? { relative, path, size: stat.size, mtimeMs: stat.mtimeMs } : undefined;
}

/** The file, or a UserError naming the relative path and who needed it. */
export function requireFile(root: string, relative: string, neededBy: string): LocatedFile {
  const file = locate(root, relative);
  if (!file) throw new UserError(`missing '${relative}' (needed by ${neededBy})`, root);
  return file;
}

export function checkRoot(root: string): void {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UserError(`NSD root folder not found (expected a folder holding nsddata/, nsddata_betas/, nsddata_stimuli/)`, root);
  }
}

/** 'subj01', 'subj1', '01', '1', 1 → 'subj01'; anything else is a UserError. */
export function normalizeSubject(subject: string): string {
  const match = /^(?:subj)?0*(\d+)$/i.exec(subject.trim());
  const name = match ? `subj${match[1]!.padStart(2, '0')}` : subject;
  if (!(NSD_SUBJECTS as readonly string[]).includes(name)) {
    throw new UserError(`NSD has no subject '${subject}' (it has subj01 … subj08, also written 1 … 8)`, 'nsd');
  }
  return name;
}

/** The beta file of a session: the HDF5 if present, else the NIfTI. */
export function locateSession(root: string, subject: string, session: number, w: Where): LocatedFile | undefined {
  return locate(root, paths.session(subject, session, w, 'hdf5')) ?? locate(root, paths.session(subject, session, w, 'nii.gz'));
}

/** Session numbers whose beta file (HDF5 or NIfTI) exists. */
export function presentSessions(root: string, subject: string, w: Where): number[] {
  const dir = join(root, paths.betasDir(subject, w));
  if (!existsSync(dir)) return [];
  const found = new Set<number>();
  for (const name of readdirSync(dir)) {
    const match = /^betas_session(\d{2})\.(?:hdf5|nii\.gz)$/.exec(name);
    if (match) found.add(Number(match[1]));
  }
  return [...found].filter((s) => s >= 1 && s <= MAX_SESSIONS).sort((a, b) => a - b);
}

/** The sessions to read: `count` → 1..count, a list as given, 'present' → those on disk (at least one). */
export function chooseSessions(root: string, subject: string, w: Where, choice: number | number[] | 'present'): number[] {
  if (choice === 'present') {
    const present = presentSessions(root, subject, w);
    if (present.length === 0) {
      throw new UserError(`no beta sessions for ${subject}: expected '${paths.session(subject, 1, w, 'hdf5')}' (or .nii.gz) and the following sessions`, root);
    }
    return present;
  }
  const sessions = typeof choice === 'number' ? Array.from({ length: choice }, (_, i) => i + 1) : [...choice].sort((a, b) => a - b);
  const missing = sessions.filter((s) => !locateSession(root, subject, s, w));
  if (missing.length > 0) {
    throw new UserError(`missing beta files for ${subject} session${missing.length > 1 ? 's' : ''} ${ranges(missing)}: ${sessionFiles(subject, missing, w)}`, root);
  }
  return sessions;
}

/** [1, 2, 3, 5] → '1–3, 5'. */
export function ranges(numbers: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j > i ? `${numbers[i]}–${numbers[j]}` : `${numbers[i]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** The relative path of one missing session, or the pattern with NN for several. */
export function sessionFiles(subject: string, sessions: number[], w: Where): string {
  if (sessions.length === 1) return `'${paths.session(subject, sessions[0]!, w, 'hdf5')}' (or .nii.gz)`;
  return `'${paths.betasDir(subject, w)}/betas_sessionNN.hdf5' (or .nii.gz) for NN = ${ranges(sessions)}`;
}
