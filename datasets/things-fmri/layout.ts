/**
 * Where the THINGS-data table files of a subject live under `root`: flat, or in `betas_csv/` (the figshare
 * folder name). Each file is looked up in both places independently.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';

export const THINGS_SUBJECTS = ['sub-01', 'sub-02', 'sub-03'] as const;
const SUBFOLDERS = ['', 'betas_csv'];

export type FileRole = 'responses' | 'voxels' | 'stimuli';

export function fileName(subject: string, role: FileRole): string {
  const suffix = role === 'responses' ? 'ResponseData.h5' : role === 'voxels' ? 'VoxelMetadata.csv' : 'StimulusMetadata.csv';
  return `${subject}_${suffix}`;
}

export interface LocatedFile {
  /** Path relative to root (as written in cache keys and messages). */
  relative: string;
  path: string;
  size: number;
  mtimeMs: number;
}

export interface SubjectFiles {
  subject: string;
  found: Partial<Record<FileRole, LocatedFile>>;
  /** Relative paths tried for each missing file. */
  missing: Array<{ role: FileRole; tried: string[] }>;
}

export function checkRoot(root: string): void {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UserError(
      `THINGS-fMRI root folder not found (expected a folder with sub-01_ResponseData.h5, sub-01_VoxelMetadata.csv, sub-01_StimulusMetadata.csv, flat or in betas_csv/)`,
      root,
    );
  }
}

export function locateSubject(root: string, subject: string): SubjectFiles {
  const found: SubjectFiles['found'] = {};
  const missing: SubjectFiles['missing'] = [];
  for (const role of ['responses', 'voxels', 'stimuli'] as const) {
    const tried = SUBFOLDERS.map((sub) => (sub ? `${sub}/${fileName(subject, role)}` : fileName(subject, role)));
    const relative = tried.find((rel) => existsSync(join(root, rel)) && statSync(join(root, rel)).isFile());
    if (relative === undefined) {
      missing.push({ role, tried });
      continue;
    }
    const path = join(root, relative);
    const stat = statSync(path);
    found[role] = { relative, path, size: stat.size, mtimeMs: stat.mtimeMs };
  }
  return { subject, found, missing };
}

export function describeMissing(files: SubjectFiles): string[] {
  return files.missing.map(({ tried }) => `${files.subject} needs ${tried.map((t) => `'${t}'`).join(' or ')} (not found)`);
}

/** 'sub-01', '01', '1', 'sub-1' → 'sub-01'; anything else, or a subject other than 1..3, is a UserError. */
export function normalizeSubject(subject: string): string {
  const match = /^(?:sub-?)?0*(\d+)$/i.exec(subject.trim());
  const name = match ? `sub-${match[1]!.padStart(2, '0')}` : subject;
  if (!(THINGS_SUBJECTS as readonly string[]).includes(name)) {
    throw new UserError(`THINGS-fMRI has no subject '${subject}' (it has ${THINGS_SUBJECTS.join(', ')})`, 'things-fmri');
  }
  return name;
}

/** All three files of a subject, or a UserError naming each missing relative path. */
export function requireSubjectFiles(root: string, subject: string): Record<FileRole, LocatedFile> {
  checkRoot(root);
  const files = locateSubject(root, subject);
  if (files.missing.length > 0) throw new UserError(describeMissing(files).join('; '), root);
  return files.found as Record<FileRole, LocatedFile>;
}
