/** NSD stimuli (`/imgBrick` of nsd_stimuli.hdf5, read one image at a time) and their COCO captions. */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { readTable } from '../../core/io/csv.js';
import { withHdf5 } from '../../core/io/hdf5.js';
import { resizeImage } from '../../core/io/image.js';
import { readNpyStrings } from '../../core/io/npy.js';
import { rastersToImageBatch, type RasterImage } from '../../core/io/png.js';
import type { ImageBatch } from '../../core/tensor.js';
import { locate, paths } from './layout.js';

const IMG_BRICK = '/imgBrick';

/** Images `ids` (0-based 73k indices) as one batch in [0, 1], resized to size × size when needed. */
export async function readStimulusImages(root: string, ids: number[], size: number): Promise<ImageBatch> {
  const file = locate(root, paths.stimuli);
  if (!file) throw new UserError(`missing '${paths.stimuli}' (needed for the stimulus images)`, root);
  return withHdf5(file.path, async (h5) => {
    const info = h5.info(IMG_BRICK);
    const [count = 0, height = 0, width = 0, channels = 0] = info.shape;
    if (info.shape.length !== 4 || channels !== 3 || info.dtype !== 'uint8') {
      throw new UserError(`'${IMG_BRICK}' is ${info.dtype} (${info.shape.join(', ')}), expected uint8 (73000, 425, 425, 3)`, file.relative);
    }
    const rasters: RasterImage[] = [];
    for (const id of ids) {
      if (id < 0 || id >= count) throw new UserError(`image ${id} requested but '${IMG_BRICK}' holds ${count} images`, file.relative);
      const data = h5.readSlice(IMG_BRICK, [id]) as Uint8Array;
      rasters.push(await resizeImage({ width, height, channels: 3, data }, size, size));
    }
    if (rasters.length === 0) return { count: 0, height: size, width: size, channels: 3, data: new Float32Array(0) };
    return rastersToImageBatch(rasters);
  });
}

export type CaptionSource = { kind: 'npy'; path: string; relative: string } | { kind: 'coco'; train?: string; val?: string; relative: string };

const NPY_NAME = 'COCO_73k_annots_curated.npy';
const COCO_DIRS = ['', 'annotations', 'nsddata_stimuli/stimuli/nsd/annotations', 'coco/annotations'];

/** Where captions come from: the `captions` option (a folder or the .npy), else well-known places under the root. */
export function findCaptions(root: string, option: string | undefined): CaptionSource | undefined {
  let base = option ?? root;
  if (option !== undefined && existsSync(option) && statSync(option).isFile()) {
    if (option.endsWith('.npy')) return { kind: 'npy', path: option, relative: option };
    base = dirname(option); // one of the COCO caption files: its folder holds both
  }
  for (const dir of ['', 'annots', 'brain-diffuser/data/annots']) {
    const relative = join(dir, NPY_NAME);
    if (existsSync(join(base, relative))) return { kind: 'npy', path: join(base, relative), relative };
  }
  for (const dir of COCO_DIRS) {
    const train = join(base, dir, 'captions_train2017.json');
    const val = join(base, dir, 'captions_val2017.json');
    if (existsSync(train) || existsSync(val)) {
      return { kind: 'coco', ...(existsSync(train) ? { train } : {}), ...(existsSync(val) ? { val } : {}), relative: join(dir, 'captions_{train,val}2017.json') };
    }
  }
  return undefined;
}

interface CocoCaptions {
  annotations: Array<{ image_id: number; caption: string }>;
}

/** Captions of the 0-based 73k images `ids` (empty entries of the curated npy are dropped). */
export async function readCaptions(root: string, source: CaptionSource, ids: number[]): Promise<string[][]> {
  if (source.kind === 'npy') {
    const npy = await readNpyStrings(source.path);
    const perImage = npy.shape[1] ?? 1;
    return ids.map((id) => {
      if (id >= (npy.shape[0] ?? 0)) throw new UserError(`no captions for image ${id} (the array has ${npy.shape[0]} rows)`, source.path);
      return npy.strings.slice(id * perImage, (id + 1) * perImage).map((s) => s.trim()).filter((s) => s.length > 0);
    });
  }
  const info = locate(root, paths.stimInfo);
  if (!info) throw new UserError(`missing '${paths.stimInfo}' (needed to join the COCO captions on cocoId)`, root);
  const table = await readTable(info.path);
  const cocoIds = table.numbers('cocoId', { required: true, integer: true });
  const splits = table.strings('cocoSplit');
  const nsdIds = table.has('nsdId') ? table.numbers('nsdId', { required: true, integer: true }) : cocoIds.map((_, i) => i);
  const rowOf = new Map(nsdIds.map((id, row) => [id!, row]));
  const bySplit = new Map<string, Map<number, string[]>>();
  const captionsOf = async (split: string): Promise<Map<number, string[]>> => {
    let map = bySplit.get(split);
    if (map) return map;
    const path = split === 'train2017' ? source.train : split === 'val2017' ? source.val : undefined;
    if (!path) throw new UserError(`captions for COCO split '${split}' needed but captions_${split}.json was not found (looked for ${source.relative})`, root);
    const json = JSON.parse(await readFile(path, 'utf8')) as CocoCaptions;
    if (!Array.isArray(json.annotations)) throw new UserError("expected a COCO captions file with an 'annotations' array", path);
    map = new Map();
    for (const a of json.annotations) map.set(a.image_id, [...(map.get(a.image_id) ?? []), a.caption.trim()]);
    bySplit.set(split, map);
    return map;
  };
  const out: string[][] = [];
  for (const id of ids) {
    const row = rowOf.get(id);
    if (row === undefined) throw new UserError(`no row with nsdId ${id}`, info.relative);
    const captions = (await captionsOf(splits[row]!)).get(cocoIds[row]!);
    if (!captions) throw new UserError(`COCO ${splits[row]} has no captions for cocoId ${cocoIds[row]} (nsdId ${id})`, root);
    out.push(captions);
  }
  return out;
}
