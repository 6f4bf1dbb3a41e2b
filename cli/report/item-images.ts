/**
 * The per-item images the HTML report shows (every test item's ground truth and reconstructions), saved as PNGs
 * in `images/` of the results folder with a manifest, `images/index.json`, so that `neurodecode report` can rebuild
 * the page from the folder alone. Files are named by a digest of their bytes: a ground truth shown in several
 * groups (the subjects of one dataset see the same images) is stored once.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sameItemGroups } from '../../core/comparisons.js';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { rethrowFileSystemError } from '../../core/io/folders.js';
import { encodePng, imageToRaster } from '../../core/io/png.js';
import type { PipelineOutcome } from '../../core/runner.js';
import type { ImageBatch } from '../../core/tensor.js';

export const IMAGES_FOLDER = 'images';
export const IMAGES_MANIFEST = join(IMAGES_FOLDER, 'index.json');

/** One column of a group's grid: a pipeline's final images, or one of its intermediate stages. */
export interface ItemImageColumn {
  label: string;
  pipeline: string;
  /** `stage 1`, … for an intermediate stage's images; absent for the final reconstructions. */
  stage?: string;
  /** One file per item (relative to the results folder), in the order of the group's ids. */
  files: string[];
}

/** The outcomes that ran on the same test items: one subject on one dataset (the grid PNG's grouping). */
export interface ItemImageGroup {
  subject: string;
  /** 1 for the first dataset this subject ran on, 2 for the next… (`grid-<subject>-dataset2.png`). */
  dataset: number;
  ids: string[];
  truth: string[];
  columns: ItemImageColumn[];
}

export interface ItemImagesManifest {
  format: 1;
  groups: ItemImageGroup[];
}

/** An outcome as the report reads it: final reconstructions, and a generator's intermediate stages (`stage 1`). */
export type OutcomeWithImages = Pick<PipelineOutcome, 'pipeline' | 'subject' | 'provenance' | 'testIds' | 'reconstructions' | 'truth' | 'stages'>;

async function writeImages(dir: string, batch: ImageBatch, written: Set<string>): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < batch.count; i++) {
    const png = encodePng(imageToRaster(batch, i));
    const file = `${IMAGES_FOLDER}/${createHash('sha256').update(png).digest('hex').slice(0, 20)}.png`;
    if (!written.has(file)) {
      await writeFileAtomic(join(dir, file), png);
      written.add(file);
    }
    files.push(file);
  }
  return files;
}

/** Writes every test item's images of every outcome and the manifest; returns the manifest's path. */
export async function writeItemImages(dir: string, outcomes: OutcomeWithImages[]): Promise<string> {
  try {
    return await writeImagesAndManifest(dir, outcomes);
  } catch (error) {
    rethrowFileSystemError(error, 'write the item images', dir);
  }
}

async function writeImagesAndManifest(dir: string, outcomes: OutcomeWithImages[]): Promise<string> {
  const written = new Set<string>();
  const groups: ItemImageGroup[] = [];
  const seen = new Map<string, number>();
  for (const group of sameItemGroups(outcomes as PipelineOutcome[]) as OutcomeWithImages[][]) {
    const first = group[0]!;
    const dataset = (seen.get(first.subject) ?? 0) + 1;
    seen.set(first.subject, dataset);
    const columns: ItemImageColumn[] = [];
    for (const o of group) {
      for (const [stage, images] of Object.entries(o.stages ?? {})) {
        columns.push({ label: `${o.pipeline} · ${stage}`, pipeline: o.pipeline, stage, files: await writeImages(dir, images, written) });
      }
      columns.push({ label: o.pipeline, pipeline: o.pipeline, files: await writeImages(dir, o.reconstructions, written) });
    }
    groups.push({ subject: first.subject, dataset, ids: first.testIds, truth: await writeImages(dir, first.truth, written), columns });
  }
  const manifest: ItemImagesManifest = { format: 1, groups };
  const path = join(dir, IMAGES_MANIFEST);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 1)}\n`);
  return path;
}

function fail(path: string, field: string, expected: string): never {
  throw new UserError(`${field}: expected ${expected}`, path);
}

function stringList(value: unknown, path: string, field: string, length?: number): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(path, field, 'an array of strings');
  if (length !== undefined && value.length !== length) fail(path, field, `${length} entries (one per item id), found ${value.length}`);
  return value as string[];
}

/** The manifest of a results folder, checked (each error names the file and the field); undefined when absent. */
export async function readItemImages(dir: string): Promise<ItemImagesManifest | undefined> {
  const path = join(dir, IMAGES_MANIFEST);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UserError(`not valid JSON (${(error as Error).message})`, path);
  }
  const root = json as Partial<ItemImagesManifest>;
  if (root === null || typeof root !== 'object' || root.format !== 1) fail(path, 'format', '1');
  if (!Array.isArray(root.groups)) fail(path, 'groups', 'an array');
  const groups = root.groups.map((g, i): ItemImageGroup => {
    const at = `groups[${i}]`;
    if (g === null || typeof g !== 'object') fail(path, at, 'an object');
    if (typeof g.subject !== 'string') fail(path, `${at}.subject`, 'a string');
    if (!Number.isInteger(g.dataset) || g.dataset < 1) fail(path, `${at}.dataset`, 'an integer ≥ 1');
    const ids = stringList(g.ids, path, `${at}.ids`);
    if (!Array.isArray(g.columns)) fail(path, `${at}.columns`, 'an array');
    const columns = g.columns.map((c, j): ItemImageColumn => {
      const cat = `${at}.columns[${j}]`;
      if (c === null || typeof c !== 'object' || typeof c.label !== 'string' || typeof c.pipeline !== 'string') {
        fail(path, cat, 'an object with a string label and pipeline');
      }
      if (c.stage !== undefined && typeof c.stage !== 'string') fail(path, `${cat}.stage`, 'a string');
      return { ...c, files: stringList(c.files, path, `${cat}.files`, ids.length) };
    });
    return { subject: g.subject, dataset: g.dataset, ids, truth: stringList(g.truth, path, `${at}.truth`, ids.length), columns };
  });
  for (const file of groups.flatMap((g) => [...g.truth, ...g.columns.flatMap((c) => c.files)])) {
    if (!/^images\/[0-9a-f]+\.png$/.test(file)) throw new UserError(`'${file}' is not an image of this folder (images/<digest>.png)`, path);
    if (!existsSync(join(dir, file))) throw new UserError(`names ${file}, which is missing from the results folder`, path);
  }
  return { format: 1, groups };
}
