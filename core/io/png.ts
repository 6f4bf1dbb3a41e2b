/**
 * PNG files (fast-png): 8-bit gray / gray+alpha / RGB / RGBA images, conversion to and from `ImageBatch` values
 * in [0, 1], and the comparison grid written with every report.
 */
import { readFile } from 'node:fs/promises';
import { decode, encode, convertIndexedToRgb, hasPngSignature } from 'fast-png';
import { UserError } from '../errors.js';
import type { ImageBatch } from '../tensor.js';
import { writeFileAtomic } from './atomic.js';

/** An 8-bit image, row-major HWC. */
export interface RasterImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  data: Uint8Array;
}

function checkRaster(image: RasterImage): void {
  const { width, height, channels, data } = image;
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`PNG: channels must be 1–4, got ${channels}`);
  if (!(width > 0 && height > 0) || data.length !== width * height * channels) {
    throw new RangeError(`PNG: ${width}×${height}×${channels} needs ${width * height * channels} bytes, got ${data.length}`);
  }
}

export function encodePng(image: RasterImage): Uint8Array {
  checkRaster(image);
  return encode({ width: image.width, height: image.height, channels: image.channels, depth: 8, data: image.data });
}

/** Decodes any PNG to 8 bits per channel: palettes become RGB(A), 16-bit and 1/2/4-bit gray are rescaled. */
export function decodePng(bytes: Uint8Array, source = 'PNG data'): RasterImage {
  if (!hasPngSignature(bytes)) throw new UserError('not a PNG file (no PNG signature)', source);
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (error) {
    throw new UserError(`corrupt PNG: ${error instanceof Error ? error.message : String(error)}`, source);
  }
  const { width, height } = png;
  if (png.palette) {
    const data = convertIndexedToRgb(png);
    return { width, height, channels: data.length / (width * height), data };
  }
  const count = width * height * png.channels;
  if (png.depth === 8) return { width, height, channels: png.channels, data: Uint8Array.from(png.data) };
  const data = new Uint8Array(count);
  if (png.depth === 16) {
    for (let i = 0; i < count; i++) data[i] = Math.round(png.data[i]! / 257);
    return { width, height, channels: png.channels, data };
  }
  // 1, 2 or 4 bits (gray only): packed, most significant bits first, each row starting on a byte.
  const bits = png.depth;
  const bytesPerRow = Math.ceil((width * png.channels * bits) / 8);
  const max = (1 << bits) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * png.channels; x++) {
      const bit = x * bits;
      const byte = png.data[y * bytesPerRow + (bit >> 3)]!;
      const value = (byte >> (8 - bits - (bit & 7))) & max;
      data[y * width * png.channels + x] = Math.round((value * 255) / max);
    }
  }
  return { width, height, channels: png.channels, data };
}

export async function readPng(path: string): Promise<RasterImage> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(error.code === 'ENOENT' ? 'PNG file not found' : `cannot read PNG file: ${error.message}`, path);
  });
  return decodePng(bytes, path);
}

export async function writePng(path: string, image: RasterImage): Promise<void> {
  await writeFileAtomic(path, encodePng(image));
}

/** [0, 1] → 0..255, clipped and rounded; a non-finite value is an error (it would otherwise show as black). */
export function unitToByte(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`image value ${value} is not finite`);
  return Math.round(Math.min(1, Math.max(0, value)) * 255);
}

/** Image `index` of a batch as 8-bit. */
export function imageToRaster(batch: ImageBatch, index: number): RasterImage {
  const size = batch.height * batch.width * batch.channels;
  const source = batch.data.subarray(index * size, (index + 1) * size);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = unitToByte(source[i]!);
  return { width: batch.width, height: batch.height, channels: batch.channels, data };
}

/** Same-shaped 8-bit images as one batch with values in [0, 1]. */
export function rastersToImageBatch(images: RasterImage[]): ImageBatch {
  const first = images[0];
  if (!first) throw new RangeError('rastersToImageBatch: no images');
  const size = first.width * first.height * first.channels;
  const data = new Float32Array(images.length * size);
  images.forEach((image, k) => {
    if (image.width !== first.width || image.height !== first.height || image.channels !== first.channels) {
      throw new RangeError(
        `image ${k} is ${image.width}×${image.height}×${image.channels}, image 0 is ${first.width}×${first.height}×${first.channels}`,
      );
    }
    for (let i = 0; i < size; i++) data[k * size + i] = image.data[i]! / 255;
  });
  return { count: images.length, height: first.height, width: first.width, channels: first.channels, data };
}

// ───────────────────────────── Comparison grid ─────────────────────────────

export interface ImageGridColumn {
  label: string;
  images: ImageBatch;
}

export interface ImageGridOptions {
  /** At most this many rows (test items); default all. */
  maxRows?: number;
  /** Nearest-neighbour magnification of the largest image; default 1. */
  scale?: number;
  /** Pixels between (and around) cells; default 2. */
  gap?: number;
  /** Draw each column's label above it (3×5 bitmap font, upper case, wrapped to the column); default true. */
  labels?: boolean;
  /** A title line (wrapped to the grid's width) above the labels, e.g. the subject; default none. */
  title?: string;
  /** Gray level of gaps and label band, in [0, 1]; default 1 (white). */
  background?: number;
}

export interface ImageGridLayout {
  /** Column labels, left to right (a legend for the CLI when the labels are not drawn). */
  columns: string[];
  /** The lines drawn above each column: its whole label, upper-cased and wrapped; empty when not drawn. */
  drawnLabels: string[][];
  /** The lines of the title, upper-cased and wrapped; empty without a title. */
  drawnTitle: string[];
  rows: number;
  cellWidth: number;
  cellHeight: number;
  /** Height of the title band (0 without a title); the label band starts at `gap + titleBand`. */
  titleBand: number;
  /** Height of the label band (0 without labels); cells start at `gap + titleBand + labelBand`. */
  labelBand: number;
  /** Size of one font pixel. */
  fontScale: number;
  width: number;
  height: number;
  channels: number;
}

/** 3×5 glyphs: five rows of three bits each, most significant bit on the left. */
const FONT: Record<string, string> = {
  A: '25755', B: '65656', C: '34443', D: '65556', E: '74647', F: '74644', G: '34553', H: '55755', I: '72227',
  J: '11152', K: '55655', L: '44447', M: '57755', N: '65555', O: '25552', P: '65644', Q: '25563', R: '65655',
  S: '34216', T: '72222', U: '55557', V: '55552', W: '55775', X: '55255', Y: '55222', Z: '71247', '0': '75557',
  '1': '26227', '2': '61247', '3': '61216', '4': '55711', '5': '74616', '6': '34757', '7': '71222', '8': '75757',
  '9': '75716', '-': '00700', _: '00007', '.': '00002', ':': '02020', '/': '11244', '+': '02720', '(': '12221',
  ')': '42224', ' ': '00000', '?': '61202', '→': '21712', '←': '24742', '·': '00200', '★': '27250', ',': '00024',
  ';': '02024', '!': '22202', '=': '07070', '*': '05250', '#': '57575', '%': '51245', '&': '25253', '[': '64446',
  ']': '31113', '<': '12421', '>': '42124', '|': '22222', "'": '22000', '"': '55000', '~': '03600', '^': '25000',
  '@': '25743', $: '36336', '{': '32623', '}': '62326', '\\': '44211', '`': '42000',
};

/** Drawn for a character the font lacks: a filled box, visibly not a letter (never a silent '?'). */
const UNKNOWN_GLYPH = '77777';

/** Characters drawn as one the font has: dashes and minus as '-', × as 'x', accented letters as their base letter. */
const EQUIVALENT: Record<string, string> = { '−': '-', '–': '-', '—': '-', '×': 'X', '•': '·', '…': '.' };

function glyph(char: string): string {
  const upper = char.toUpperCase();
  const base = EQUIVALENT[char] ?? upper.normalize('NFD').replace(/\p{M}/gu, '');
  return FONT[upper] ?? FONT[base] ?? UNKNOWN_GLYPH;
}

/** Height in pixels of `lines` lines of text (5 font rows, 1 between lines). */
function textHeight(lines: number, fontScale: number): number {
  return lines === 0 ? 0 : (6 * lines - 1) * fontScale;
}

/**
 * Splits a label into lines of at most `width` characters: at spaces, or after '→', '-', '/', '_', '·' when a
 * line would overflow; a longer word is cut into pieces. Nothing is dropped.
 */
export function wrapLabel(text: string, width: number): string[] {
  const chars = Array.from(text.toUpperCase().trim());
  const max = Math.max(1, width);
  const breaks = (char: string) => ' →-/_·'.includes(char);
  const lines: string[] = [];
  let line: string[] = [];
  for (const char of chars) {
    line.push(char);
    if (line.length <= max) continue;
    // Break after the last break character that keeps the line within `max`, else cut the word.
    let cut = max;
    for (let i = max - 1; i > 0; i--) {
      if (breaks(line[i]!)) {
        cut = i + 1;
        break;
      }
    }
    lines.push(line.slice(0, cut).join('').trimEnd());
    line = line.slice(cut);
    while (line[0] === ' ') line.shift();
  }
  if (line.length > 0) lines.push(line.join('').trimEnd());
  return lines.filter((l) => l.length > 0);
}

/** Lays out the grid: sizes, rows, title and label text. */
export function imageGridLayout(columns: ImageGridColumn[], options: ImageGridOptions = {}): ImageGridLayout {
  const first = columns[0];
  if (!first) throw new RangeError('image grid: no columns');
  for (const column of columns) {
    if (column.images.count !== first.images.count) {
      throw new RangeError(`image grid: column '${column.label}' has ${column.images.count} images, '${first.label}' has ${first.images.count}`);
    }
    if (![1, 3, 4].includes(column.images.channels)) {
      throw new RangeError(`image grid: column '${column.label}' has ${column.images.channels} channels (expected 1, 3 or 4)`);
    }
  }
  const scale = options.scale ?? 1;
  const gap = options.gap ?? 2;
  if (!(scale > 0) || !(gap >= 0) || !Number.isInteger(gap)) throw new RangeError(`image grid: bad scale ${scale} or gap ${gap}`);
  const rows = Math.min(first.images.count, options.maxRows ?? Infinity);
  const cellWidth = Math.round(Math.max(...columns.map((c) => c.images.width)) * scale);
  const cellHeight = Math.round(Math.max(...columns.map((c) => c.images.height)) * scale);
  const fontScale = Math.max(1, Math.floor(cellWidth / 64));
  const width = gap + columns.length * (cellWidth + gap);
  const charsIn = (pixels: number) => Math.floor((pixels + fontScale) / (4 * fontScale));
  const drawnLabels = options.labels ?? true ? columns.map((c) => wrapLabel(c.label, charsIn(cellWidth))) : [];
  const drawnTitle = options.title ? wrapLabel(options.title, charsIn(width - 2 * gap)) : [];
  const labelLines = Math.max(0, ...drawnLabels.map((l) => l.length));
  const titleBand = drawnTitle.length > 0 ? textHeight(drawnTitle.length, fontScale) + gap : 0;
  const labelBand = labelLines > 0 ? textHeight(labelLines, fontScale) + gap : 0;
  const channels = columns.some((c) => c.images.channels === 4) ? 4 : columns.some((c) => c.images.channels === 3) ? 3 : 1;
  return {
    columns: columns.map((c) => c.label),
    drawnLabels,
    drawnTitle,
    rows,
    cellWidth,
    cellHeight,
    titleBand,
    labelBand,
    fontScale,
    width,
    height: gap + titleBand + labelBand + rows * (cellHeight + gap),
    channels,
  };
}

/** Draws lines of text in black with the 3×5 font, top-left at (x0, y0). */
function drawText(image: RasterImage, lines: string[], x0: number, y0: number, fontScale: number): void {
  const { width, channels, data } = image;
  lines.forEach((text, l) => {
    Array.from(text).forEach((char, k) => {
      const rowsOfBits = glyph(char);
      for (let gy = 0; gy < 5 * fontScale; gy++) {
        for (let gx = 0; gx < 3 * fontScale; gx++) {
          if (!((Number(rowsOfBits[Math.floor(gy / fontScale)]) >> (2 - Math.floor(gx / fontScale))) & 1)) continue;
          const at = ((y0 + l * 6 * fontScale + gy) * width + x0 + k * 4 * fontScale + gx) * channels;
          data.fill(0, at, at + Math.min(channels, 3));
        }
      }
    });
  });
}

/**
 * Renders one column per source (ground truth first, then each pipeline) and one row per test item, under an
 * optional title and each column's whole label. Every image is resampled nearest-neighbour to the cell (the
 * largest image × scale); gray is replicated into colour.
 */
export function renderImageGrid(columns: ImageGridColumn[], options: ImageGridOptions = {}): { image: RasterImage; layout: ImageGridLayout } {
  const layout = imageGridLayout(columns, options);
  const { width, height, channels, cellWidth, cellHeight, fontScale } = layout;
  const gap = options.gap ?? 2;
  const data = new Uint8Array(width * height * channels).fill(unitToByte(options.background ?? 1));
  if (channels === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  const image = { width, height, channels, data };
  drawText(image, layout.drawnTitle, gap, gap, fontScale);

  columns.forEach((column, c) => {
    const x0 = gap + c * (cellWidth + gap);
    drawText(image, layout.drawnLabels[c] ?? [], x0, gap + layout.titleBand, fontScale);
    const { width: w, height: h, channels: ch, data: values } = column.images;
    for (let r = 0; r < layout.rows; r++) {
      const y0 = gap + layout.titleBand + layout.labelBand + r * (cellHeight + gap);
      const base = r * w * h * ch;
      for (let y = 0; y < cellHeight; y++) {
        const sy = Math.floor((y * h) / cellHeight);
        for (let x = 0; x < cellWidth; x++) {
          const src = base + (sy * w + Math.floor((x * w) / cellWidth)) * ch;
          const dst = ((y0 + y) * width + x0 + x) * channels;
          for (let o = 0; o < channels; o++) {
            const value = o === 3 ? (ch === 4 ? values[src + 3]! : 1) : values[src + (ch === 1 ? 0 : o)]!;
            if (!Number.isFinite(value)) throw new RangeError(`image grid: column '${column.label}', item ${r} has a non-finite value`);
            data[dst + o] = unitToByte(value);
          }
        }
      }
    }
  });
  return { image, layout };
}

/** Writes the grid PNG atomically and returns its layout (column order for the CLI's legend). */
export async function writeImageGrid(path: string, columns: ImageGridColumn[], options: ImageGridOptions = {}): Promise<ImageGridLayout> {
  const { image, layout } = renderImageGrid(columns, options);
  await writePng(path, image);
  return layout;
}
