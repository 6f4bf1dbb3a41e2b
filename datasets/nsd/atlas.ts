/**
 * ROI atlas: each ROI file `roi/<name>.nii.gz` (−1 outside the brain, 0 no ROI, 1..n labels) restricted to the
 * chosen mask's voxels, label names from FreeSurfer's `label/<name>.mgz.ctab` (`index name …` lines). Adds the whole
 * file as `<name>` and dorsal+ventral halves as V1, V2, V3 (keeping V1v, V1d, …).
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../../core/errors.js';
import { readNifti } from '../../core/io/nifti.js';
import type { Mask } from './betas.js';
import { locate, paths, type Where } from './layout.js';

export function parseCtab(text: string): Map<number, string> {
  const labels = new Map<number, string>();
  for (const line of text.split(/\r?\n/)) {
    const [index, name] = line.trim().split(/\s+/);
    if (index === undefined || name === undefined || !/^\d+$/.test(index)) continue;
    labels.set(Number(index), name);
  }
  return labels;
}

export interface AtlasResult {
  atlas: Record<string, number[]>;
  /** ROI files not found, and files without a label table. */
  notes: string[];
}

export async function buildAtlas(root: string, subject: string, w: Where, names: string[], mask: Mask): Promise<AtlasResult> {
  const atlas: Record<string, number[]> = {};
  const notes: string[] = [];
  for (const name of names) {
    const file = locate(root, paths.roi(subject, name, w));
    if (!file) {
      notes.push(`${subject}: no ROI file '${paths.roi(subject, name, w)}'`);
      continue;
    }
    const volume = await readNifti(file.path);
    const [x, y, z] = volume.header.shape;
    if (x !== mask.shape[0] || y !== mask.shape[1] || z !== mask.shape[2]) {
      throw new UserError(`ROI volume is ${x}×${y}×${z} but the mask is ${mask.shape.join('×')} (needed by ${subject})`, file.relative);
    }
    const ctab = locate(root, paths.ctab(subject, name));
    const labels = ctab ? parseCtab(await readFile(ctab.path, 'utf8')) : new Map<number, string>();
    if (!ctab) notes.push(`${subject}: no label table '${paths.ctab(subject, name)}', labels named ${name}-<index>`);
    const whole: number[] = [];
    const byLabel = new Map<number, number[]>();
    mask.voxels.forEach((index, column) => {
      const label = Math.round(volume.data[index]!);
      if (!(label > 0)) return;
      whole.push(column);
      byLabel.set(label, [...(byLabel.get(label) ?? []), column]);
    });
    // Listed per file, labels in index order; a label name another file already used is prefixed with its file.
    atlas[name] = whole;
    for (const [label, columns] of [...byLabel].sort((a, b) => a[0] - b[0])) {
      const plain = labels.get(label) ?? `${name}-${label}`;
      atlas[atlas[plain] === undefined ? plain : `${name}:${plain}`] = columns;
    }
  }
  for (const area of ['V1', 'V2', 'V3']) {
    const halves = [`${area}v`, `${area}d`].flatMap((h) => atlas[h] ?? []);
    if (halves.length > 0 && atlas[area] === undefined) atlas[area] = [...new Set(halves)].sort((a, b) => a - b);
  }
  return { atlas, notes };
}
