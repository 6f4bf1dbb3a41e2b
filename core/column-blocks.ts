/**
 * Target matrices held as column blocks: a large target space (Versatile Diffusion's CLIP-vision, 257 × 768 = 197,376
 * columns, is 7 GB at NSD's 8,859 training items) is written to disk block by block as its rows are encoded, and a
 * mapper that fits columns independently (ridge) reads one block at a time. Small spaces are one in-memory block.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnBlocks } from './contracts.js';
import { encodeNpy, readNpy } from './io/npy.js';
import type { Matrix } from './tensor.js';

/** Column ranges [start, end) of `width` columns each (the last one narrower). */
export function blockRanges(cols: number, width: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < cols; start += width) ranges.push([start, Math.min(cols, start + width)]);
  return ranges.length > 0 ? ranges : [[0, 0]];
}

/** A whole matrix as one block (no copy): what every mapper gets for a space no wider than a block. */
export function singleBlock(m: Matrix): ColumnBlocks {
  return { rows: m.rows, cols: m.cols, ranges: [[0, m.cols]], read: async () => m };
}

/** Columns [start, end) of `m` (a copy). */
export function columnRange(m: Matrix, start: number, end: number): Matrix {
  const width = end - start;
  const out = new Float32Array(m.rows * width);
  for (let i = 0; i < m.rows; i++) out.set(m.data.subarray(i * m.cols + start, i * m.cols + end), i * width);
  return { rows: m.rows, cols: width, data: out };
}

/** The blocks as one matrix (a copy, unless there is one block): for mappers that need every column at once. */
export async function wholeMatrix(blocks: ColumnBlocks): Promise<Matrix> {
  if (blocks.ranges.length === 1) return blocks.read(0);
  const out = new Float32Array(blocks.rows * blocks.cols);
  for (const [b, [start, end]] of blocks.ranges.entries()) {
    const block = await blocks.read(b);
    const width = end - start;
    for (let i = 0; i < blocks.rows; i++) out.set(block.data.subarray(i * width, (i + 1) * width), i * blocks.cols + start);
  }
  return { rows: blocks.rows, cols: blocks.cols, data: out };
}

/** Column means in float64, one block at a time. */
export async function blockColumnMeans(blocks: ColumnBlocks): Promise<Float64Array> {
  const mean = new Float64Array(blocks.cols);
  for (const [b, [start, end]] of blocks.ranges.entries()) {
    const block = await blocks.read(b);
    const width = end - start;
    for (let i = 0; i < block.rows; i++) for (let j = 0; j < width; j++) mean[start + j]! += block.data[i * width + j]!;
  }
  for (let j = 0; j < mean.length; j++) mean[j] = mean[j]! / blocks.rows;
  return mean;
}

/**
 * Writes a rows × cols float32 matrix arriving as row chunks into one .npy file per column block under `dir`, so
 * that memory holds one chunk, never the matrix; `finish` gives the blocks, read from disk. Files are opened per
 * write (a narrow block width must not run out of file handles).
 */
export class ColumnBlockWriter {
  readonly ranges: Array<[number, number]>;
  private readonly offsets: number[] = [];
  private written = 0;

  private constructor(
    private readonly dir: string,
    readonly rows: number,
    readonly cols: number,
    width: number,
  ) {
    this.ranges = blockRanges(cols, width);
  }

  static async create(dir: string, rows: number, cols: number, width: number): Promise<ColumnBlockWriter> {
    const writer = new ColumnBlockWriter(dir, rows, cols, width);
    await mkdir(dir, { recursive: true });
    for (const [b, [start, end]] of writer.ranges.entries()) {
      // The header declares the whole block; its rows are written in place as they arrive.
      const header = encodeNpy({ shape: [rows, end - start], data: new Float32Array(0) });
      await writeFile(writer.path(b), header);
      writer.offsets.push(header.length);
    }
    return writer;
  }

  private path(block: number): string {
    return join(this.dir, `block${String(block).padStart(4, '0')}.npy`);
  }

  /** The next rows, in order: chunk.rows × cols. */
  async append(chunk: Matrix): Promise<void> {
    if (chunk.cols !== this.cols) throw new Error(`internal: a chunk of ${chunk.cols} columns for blocks of a ${this.cols}-column matrix`);
    if (this.written + chunk.rows > this.rows) throw new Error(`internal: ${this.written + chunk.rows} rows written to a ${this.rows}-row matrix`);
    for (const [b, [start, end]] of this.ranges.entries()) {
      const part = columnRange(chunk, start, end);
      const handle = await open(this.path(b), 'r+');
      try {
        await handle.write(new Uint8Array(part.data.buffer, part.data.byteOffset, part.data.byteLength), 0, part.data.byteLength, this.offsets[b]! + this.written * (end - start) * 4);
      } finally {
        await handle.close();
      }
    }
    this.written += chunk.rows;
  }

  finish(): ColumnBlocks {
    if (this.written !== this.rows) throw new Error(`internal: ${this.written} of ${this.rows} rows written`);
    return blockFiles(this.rows, this.cols, this.ranges, (b) => this.path(b));
  }
}

/** Column blocks kept as one rows × (end − start) float32 .npy file per block, read one at a time. */
export function blockFiles(rows: number, cols: number, ranges: Array<[number, number]>, path: (block: number) => string): ColumnBlocks {
  return {
    rows,
    cols,
    ranges,
    read: async (block) => {
      const { shape, data } = await readNpy(path(block));
      const [start, end] = ranges[block]!;
      if (shape[0] !== rows || shape[1] !== end - start || !(data instanceof Float32Array)) {
        throw new Error(`internal: ${path(block)} holds (${shape.join(', ')}), expected float32 (${rows}, ${end - start})`);
      }
      return { rows, cols: end - start, data };
    },
  };
}
