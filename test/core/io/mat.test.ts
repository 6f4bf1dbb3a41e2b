import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { loadHdf5 } from '../../../core/io/hdf5.js';
import {
  columnMajorOffset,
  decodeMat,
  matElement,
  matHeader,
  matString,
  matStrings,
  readMat,
  toRowMajor,
  type MatCell,
  type MatNumeric,
  type MatStruct,
  type MatValue,
} from '../../../core/io/mat.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/io/', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'neurodecode-mat-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function values(array: ArrayLike<number | bigint>): Array<number | bigint> {
  return Array.prototype.slice.call(array) as Array<number | bigint>;
}

function numeric(value: MatValue | undefined): MatNumeric {
  if (!value || value.class === 'char' || value.class === 'cell' || value.class === 'struct') throw new Error('not numeric');
  return value;
}

describe('MAT Level 5: numeric classes', () => {
  const CASES: Array<[string, number, number, Array<number | bigint>, unknown]> = [
    ['double', CLASS.double, MI.DOUBLE, [1.5, -2.25, 1e300], Float64Array],
    ['double', CLASS.double, MI.UINT8, [0, 7, 255], Float64Array], // MATLAB stores small integers compactly
    ['single', CLASS.single, MI.SINGLE, [0.5, -3, 1024], Float32Array],
    ['int8', CLASS.int8, MI.INT8, [-128, 0, 127], Int8Array],
    ['uint8', CLASS.uint8, MI.UINT8, [0, 128, 255], Uint8Array],
    ['int16', CLASS.int16, MI.INT16, [-32768, 5, 32767], Int16Array],
    ['uint16', CLASS.uint16, MI.UINT16, [0, 40000, 65535], Uint16Array],
    ['int32', CLASS.int32, MI.INT32, [-2147483648, 9, 2147483647], Int32Array],
    ['int32', CLASS.int32, MI.INT16, [-300, 9, 300], Int32Array],
    ['uint32', CLASS.uint32, MI.UINT32, [0, 3e9, 4294967295], Uint32Array],
    ['int64', CLASS.int64, MI.INT64, [-(2n ** 62n), 0n, 2n ** 62n], BigInt64Array],
    ['uint64', CLASS.uint64, MI.UINT64, [0n, 2n ** 63n, 2n ** 64n - 1n], BigUint64Array],
  ];

  it.each(CASES)('reads class %s stored as mi type %i/%i', (className, classId, miType, data, ctor) => {
    const bytes = matFile([numericArray('v', classId, [1, 3], miType, data)]);
    const v = numeric(decodeMat(bytes).v);
    expect(v.class).toBe(className);
    expect(v.shape).toEqual([1, 3]);
    expect(v.data).toBeInstanceOf(ctor);
    expect(values(v.data)).toEqual(data);
  });

  it('keeps a 2×3×4 array column-major and indexes (i, j, k) correctly', () => {
    // Stored order: i fastest, then j, then k. Value encodes its own index: 100 i + 10 j + k.
    const stored: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) stored.push(100 * i + 10 * j + k);
    const v = numeric(decodeMat(matFile([numericArray('cube', CLASS.double, [2, 3, 4], MI.DOUBLE, stored)])).cube);
    expect(v.shape).toEqual([2, 3, 4]);
    expect(values(v.data)).toEqual(stored);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        for (let k = 0; k < 4; k++) {
          expect(matElement(v, i, j, k)).toBe(100 * i + 10 * j + k);
          expect(columnMajorOffset(v.shape, [i, j, k])).toBe(i + 2 * j + 6 * k);
        }
      }
    }
    // Row-major: k fastest.
    const rowMajor = toRowMajor(v as { shape: number[]; data: Float64Array });
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(100 * i + 10 * j + k);
    expect(values(rowMajor)).toEqual(expected);
    expect(() => matElement(v, 2, 0, 0)).toThrow(RangeError);
  });

  it('reads small data elements (scalar and short name packed in one 8-byte element)', () => {
    const element = numericArray('x', CLASS.int32, [1, 1], MI.INT32, [-7]);
    // tag 8 + flags 16 + dims 16 + name 8 (small) + data 8 (small) = 56 bytes.
    expect(element.length).toBe(56);
    expect(values(numeric(decodeMat(matFile([element])).x).data)).toEqual([-7]);
  });

  it('reads complex arrays into data and imag', () => {
    const element = numericArray('z', CLASS.double, [1, 2], MI.DOUBLE, [1, -3.5], { imag: [2, -0.5] });
    const z = numeric(decodeMat(matFile([element])).z);
    expect(values(z.data)).toEqual([1, -3.5]);
    expect(values(z.imag!)).toEqual([2, -0.5]);
  });

  it('reads logical arrays', () => {
    const m = numeric(decodeMat(matFile([numericArray('m', CLASS.uint8, [2, 2], MI.UINT8, [1, 0, 0, 1], { logical: true })])).m);
    expect(m.class).toBe('logical');
    expect(m.data).toBeInstanceOf(Uint8Array);
    expect(matElement(m, 1, 1)).toBe(1);
    expect(matElement(m, 0, 1)).toBe(0);
  });

  it('reads big-endian files the same', () => {
    const le = decodeMat(matFile([numericArray('a', CLASS.double, [2, 2], MI.DOUBLE, [1, 2, 3, 4.5]), numericArray('b', CLASS.int16, [1, 2], MI.INT16, [-2, 300])]));
    const be = decodeMat(
      matFile([numericArray('a', CLASS.double, [2, 2], MI.DOUBLE, [1, 2, 3, 4.5], { littleEndian: false }), numericArray('b', CLASS.int16, [1, 2], MI.INT16, [-2, 300], { littleEndian: false })], { littleEndian: false }),
    );
    expect(matHeader(matFile([], { littleEndian: false })).littleEndian).toBe(false);
    expect(be).toEqual(le);
  });
});

describe('MAT Level 5: char, cell, struct, compression', () => {
  it('reads char arrays stored as UTF-16 code units and as UTF-8, and char matrices', () => {
    const file = decodeMat(
      matFile([
        charArray('a', [1, 5], 'hello'),
        charArray('b', [1, 6], 'héllo→', MI.UTF8),
        // 2×3 char matrix ['ab '; 'cde'], column-major: a c b d ' ' e.
        charArray('rows', [2, 3], 'acbd e'),
      ]),
    );
    expect(matString(file.a!)).toBe('hello');
    expect(matString(file.b!)).toBe('héllo→');
    expect(matStrings(file.rows!)).toEqual(['ab', 'cde']);
    expect(matStrings(file.rows!, false)).toEqual(['ab ', 'cde']);
    expect(() => matString(file.rows!)).toThrow(/2×3 char array/);
  });

  it('reads cells (nested, with an empty element) in column-major order', () => {
    const inner = cellArray('', [1, 1], [charArray('', [1, 2], 'in')]);
    const empty = new Uint8Array([MI.MATRIX, 0, 0, 0, 0, 0, 0, 0]); // a zero-byte miMATRIX: []
    const c = decodeMat(matFile([cellArray('c', [2, 2], [numericArray('', CLASS.double, [1, 1], MI.DOUBLE, [4]), charArray('', [1, 3], 'abc'), inner, empty])])).c as MatCell;
    expect(c.class).toBe('cell');
    expect(c.shape).toEqual([2, 2]);
    expect(values(numeric(c.cells[0]).data)).toEqual([4]); // (0,0)
    expect(matString(c.cells[1]!)).toBe('abc'); // (1,0)
    expect(matString((c.cells[2] as MatCell).cells[0]!)).toBe('in'); // (0,1)
    expect(c.cells[3]).toEqual({ class: 'double', shape: [0, 0], data: new Float64Array(0) }); // (1,1)
    const strings = decodeMat(matFile([cellArray('s', [1, 2], [charArray('', [1, 1], 'x'), charArray('', [1, 2], 'yz')])])).s!;
    expect(matStrings(strings)).toEqual(['x', 'yz']);
  });

  it('reads struct arrays: field names and elements in column-major order', () => {
    const s = decodeMat(
      matFile([
        structArray('s', [1, 2], ['a', 'longer_name'], [
          [numericArray('', CLASS.double, [1, 1], MI.DOUBLE, [1]), charArray('', [1, 3], 'one')],
          [numericArray('', CLASS.double, [1, 1], MI.DOUBLE, [2]), charArray('', [1, 3], 'two')],
        ]),
      ]),
    ).s as MatStruct;
    expect(s.class).toBe('struct');
    expect(s.shape).toEqual([1, 2]);
    expect(s.fields).toEqual(['a', 'longer_name']);
    expect(s.elements.map((e) => values(numeric(e.a).data)[0])).toEqual([1, 2]);
    expect(s.elements.map((e) => matString(e.longer_name!))).toEqual(['one', 'two']);
  });

  it('reads miCOMPRESSED variables to the same values', () => {
    const elements = [
      numericArray('cube', CLASS.double, [2, 3, 4], MI.DOUBLE, Array.from({ length: 24 }, (_, i) => i * 0.5)),
      charArray('name', [1, 3], 'nsd'),
      cellArray('c', [1, 1], [numericArray('', CLASS.int16, [1, 2], MI.INT16, [5, -5])]),
    ];
    const plain = decodeMat(matFile(elements));
    const packed = matFile(elements.map((e) => compressed(e)));
    expect(packed.length).toBeLessThan(matFile(elements).length);
    expect(decodeMat(packed)).toEqual(plain);
  });

  it('reads only the requested variables and names a missing one', () => {
    const bytes = matFile([charArray('a', [1, 1], 'x'), compressed(numericArray('b', CLASS.double, [1, 1], MI.DOUBLE, [2])), numericArray('c', CLASS.double, [1, 1], MI.DOUBLE, [3])]);
    expect(Object.keys(decodeMat(bytes, 'f.mat', { variables: ['b', 'c'] }))).toEqual(['b', 'c']);
    expect(() => decodeMat(bytes, 'f.mat', { variables: ['zz'] })).toThrow(/f\.mat: variable 'zz' not found \(present: a, b, c\)/);
  });
});

describe('MAT Level 5: unsupported and bad input', () => {
  it('refuses sparse matrices with a clear message', () => {
    const sparse = numericArray('S', CLASS.sparse, [3, 3], MI.DOUBLE, []);
    expect(() => decodeMat(matFile([sparse]), 'design.mat')).toThrow(/design\.mat: variable or field 'S' is a sparse matrix .*not supported/);
  });

  it('rejects short, foreign, truncated and corrupt files with a UserError naming the file', () => {
    const good = matFile([numericArray('a', CLASS.double, [1, 4], MI.DOUBLE, [1, 2, 3, 4])]);
    expect(() => decodeMat(good.subarray(0, 100), 'x.mat')).toThrow(/x\.mat: not a MAT-file: 100 bytes/);
    const foreign = new Uint8Array(200).fill(65);
    expect(() => decodeMat(foreign, 'x.mat')).toThrow(/no 'IM'\/'MI' endian indicator/);
    expect(() => decodeMat(good.subarray(0, good.length - 16), 'x.mat')).toThrow(/declares .* bytes, only .* remain \(truncated file\?\)/);
    const z = matFile([compressed(numericArray('a', CLASS.double, [1, 4], MI.DOUBLE, [1, 2, 3, 4]))]);
    expect(() => decodeMat(z.subarray(0, z.length - 5), 'z.mat')).toThrow(UserError);
    const flipped = Uint8Array.from(z);
    flipped[z.length - 3]! ^= 0xff; // inside the adler32 checksum
    expect(() => decodeMat(flipped, 'z.mat')).toThrow(/compressed variable #1 is corrupt/);
    // Dimensions that do not match the data.
    const mismatch = matFile([numericArray('a', CLASS.double, [2, 4], MI.DOUBLE, [1, 2, 3, 4])]);
    expect(() => decodeMat(mismatch, 'm.mat')).toThrow(/holds 32 bytes, expected 8 values/);
    // A NaN stored for an int64 array (MATLAB never writes this; a corrupt file might).
    const nan = matFile([numericArray('q', CLASS.int64, [1, 1], MI.DOUBLE, [NaN])]);
    expect(() => decodeMat(nan, 'q.mat')).toThrow(/NaN cannot be stored in a 64-bit integer array/);
  });

  it('names a missing file', async () => {
    await expect(readMat(join(dir, 'nope.mat'))).rejects.toThrow(/nope\.mat: file not found/);
  });
});

describe('MAT files written by scipy.io.savemat (committed fixtures)', () => {
  // Same formulas as test/fixtures/io/make_mat_fixtures.py.
  it.each(['nsd_expdesign_like_v5.mat', 'nsd_expdesign_like_v5z.mat'])('%s', async (name) => {
    const m = await readMat(join(FIXTURES, name));
    const masterordering = numeric(m.masterordering);
    expect(masterordering.shape).toEqual([1, 30]);
    expect(values(masterordering.data)).toEqual(Array.from({ length: 30 }, (_, i) => ((i * 7) % 12) + 1));
    const subjectim = numeric(m.subjectim);
    expect(subjectim.shape).toEqual([8, 10]);
    for (let s = 0; s < 8; s++) for (let j = 0; j < 10; j++) expect(matElement(subjectim, s, j)).toBe(s * 1000 + j + 1);
    expect(values(numeric(m.sharedix).data)).toEqual([3, 5, 8, 13, 21]);
    const stimpattern = numeric(m.stimpattern);
    expect(stimpattern.class).toBe('logical');
    expect(stimpattern.shape).toEqual([4, 3, 5]);
    for (let s = 0; s < 4; s++) {
      for (let r = 0; r < 3; r++) {
        for (let t = 0; t < 5; t++) expect(matElement(stimpattern, s, r, t)).toBe((s + 2 * r + 3 * t) % 4 === 0 ? 1 : 0);
      }
    }
    const basiccnt = numeric(m.basiccnt);
    expect(values(toRowMajor(basiccnt as { shape: number[]; data: Float64Array }))).toEqual(Array.from({ length: 12 }, (_, i) => i * 1.5));
    expect(matString(m.label!)).toBe('nsd expdesign');
    expect(matStrings(m.names!)).toEqual(['V1v', 'hV4', 'FFA-1']);
    const info = m.info as MatStruct;
    expect(info.fields).toEqual(['subject', 'tr', 'roi']);
    expect(numeric(info.elements[0]!.subject).class).toBe('int32');
    expect(values(numeric(info.elements[0]!.subject).data)).toEqual([3]);
    expect(values(numeric(info.elements[0]!.tr).data)).toEqual([1.6]);
    expect(matString(info.elements[0]!.roi!)).toBe('nsdgeneral');
    expect(values(numeric(m.i64).data)).toEqual([-(2n ** 40n), 7n, 2n ** 50n]);
    const f32 = numeric(m.f32);
    expect(f32.data).toBeInstanceOf(Float32Array);
    expect(values(toRowMajor(f32 as { shape: number[]; data: Float32Array }))).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(values(numeric(m.u16).data)).toEqual([0, 65535, 300]);
    expect(values(numeric(m.cplx).imag!)).toEqual([2, -0.5]);
  });
});

describe('MAT v7.3 (HDF5 with a 512-byte MATLAB header)', () => {
  /** The 128-byte MATLAB header padded to the 512-byte user block, as MATLAB writes it. */
  function v73Header(): Buffer {
    const header = Buffer.alloc(512, 0);
    header.write('MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .'.padEnd(116, ' '), 0, 'latin1');
    header.writeUInt16LE(0x0200, 124);
    header.write('IM', 126, 'latin1');
    return header;
  }

  async function writeV73(path: string): Promise<void> {
    const h5 = await loadHdf5();
    const raw = `${path}.h5`;
    const f = new h5.File(raw, 'w');
    const dataset = (name: string, data: ArrayLike<number>, shape: number[], matlabClass: string, dtype?: string) => {
      const d = f.create_dataset({ name, data: data as Float64Array, shape, dtype: dtype ?? null });
      d.create_attribute('MATLAB_class', matlabClass);
      return d;
    };
    // A = [1 2 3; 4 5 6] (2×3): HDF5 shape [3, 2] holding A(:) = 1 4 2 5 3 6.
    dataset('A', Float64Array.from([1, 4, 2, 5, 3, 6]), [3, 2], 'double');
    dataset('label', Uint16Array.from('betas', (c) => c.charCodeAt(0)), [5, 1], 'char');
    dataset('mask', Uint8Array.from([1, 0, 1]), [3, 1], 'logical');
    dataset('ids', Int32Array.from([-1, 2]), [2, 1], 'int32');
    const empty = dataset('E', BigUint64Array.from([0n, 3n]) as unknown as ArrayLike<number>, [2], 'double');
    empty.create_attribute('MATLAB_empty', 1);
    const s = f.create_group('S');
    s.create_attribute('MATLAB_class', 'struct');
    s.create_dataset({ name: 'tr', data: Float64Array.from([1.6]), shape: [1, 1] }).create_attribute('MATLAB_class', 'double');
    const refs = f.create_group('#refs#');
    refs.create_dataset({ name: 'a', data: Float64Array.from([7, 8]), shape: [2, 1] }).create_attribute('MATLAB_class', 'double');
    refs.create_dataset({ name: 'b', data: Uint16Array.from([104, 105]), shape: [2, 1] }).create_attribute('MATLAB_class', 'char');
    const cell = f.create_dataset({ name: 'C', data: [refs.get('a')!, refs.get('b')!].map((e) => (e as InstanceType<typeof h5.Dataset>).create_reference()), shape: [2, 1] });
    cell.create_attribute('MATLAB_class', 'cell');
    f.close();
    await writeFile(path, Buffer.concat([v73Header(), await readFile(raw)]));
  }

  it('detects v7.3, reads variables as v5 would (MATLAB shape, column-major data)', async () => {
    const path = join(dir, 'v73.mat');
    await writeV73(path);
    expect(matHeader(await readFile(path)).format).toBe('v7.3');
    const m = await readMat(path);
    expect(Object.keys(m).sort()).toEqual(['A', 'C', 'E', 'S', 'ids', 'label', 'mask']);
    const a = numeric(m.A);
    expect(a.shape).toEqual([2, 3]);
    expect(matElement(a, 0, 2)).toBe(3);
    expect(matElement(a, 1, 0)).toBe(4);
    // The same matrix from a v5 file gives the same value.
    expect(decodeMat(matFile([numericArray('A', CLASS.double, [2, 3], MI.DOUBLE, [1, 4, 2, 5, 3, 6])])).A).toEqual(a);
    expect(matString(m.label!)).toBe('betas');
    expect(numeric(m.mask).class).toBe('logical');
    expect(values(numeric(m.mask).data)).toEqual([1, 0, 1]);
    expect(values(numeric(m.ids).data)).toEqual([-1, 2]);
    expect(numeric(m.E).shape).toEqual([0, 3]);
    expect(values(numeric((m.S as MatStruct).elements[0]!.tr).data)).toEqual([1.6]);
    const cells = (m.C as MatCell).cells;
    expect(values(numeric(cells[0]).data)).toEqual([7, 8]);
    expect(matString(cells[1]!)).toBe('hi');
    expect(Object.keys(await readMat(path, { variables: ['A'] }))).toEqual(['A']);
  });

  it('reports a truncated v7.3 file as a UserError', async () => {
    const path = join(dir, 'v73-full.mat');
    await writeV73(path);
    const bytes = await readFile(path);
    const cut = join(dir, 'v73-cut.mat');
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    await expect(readMat(cut)).rejects.toThrow(/truncated HDF5 file/);
  });
});

describe('test writer', () => {
  it('writes the 128-byte header with version 0x0100 and IM', () => {
    const bytes = matFile([]);
    expect(bytes.length).toBe(128);
    expect(Buffer.from(bytes.subarray(0, 10)).toString('latin1')).toBe('MATLAB 5.0');
    expect(new DataView(bytes.buffer).getUint16(124, true)).toBe(0x0100);
    expect(String.fromCharCode(bytes[126]!, bytes[127]!)).toBe('IM');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A minimal Level-5 writer, byte by byte from the MAT-File Format specification.

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16 } as const;
const CLASS = { cell: 1, struct: 2, char: 4, sparse: 5, double: 6, single: 7, int8: 8, uint8: 9, int16: 10, uint16: 11, int32: 12, uint32: 13, int64: 14, uint64: 15 } as const;
const SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1 };

interface WriteOptions {
  littleEndian?: boolean;
  imag?: Array<number | bigint>;
  logical?: boolean;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function encode(type: number, data: Array<number | bigint>, le = true): Uint8Array {
  const size = SIZE[type]!;
  const out = new Uint8Array(data.length * size);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => {
    const at = i * size;
    const n = Number(v);
    if (type === MI.INT8) view.setInt8(at, n);
    else if (type === MI.UINT8 || type === MI.UTF8) view.setUint8(at, n);
    else if (type === MI.INT16) view.setInt16(at, n, le);
    else if (type === MI.UINT16) view.setUint16(at, n, le);
    else if (type === MI.INT32) view.setInt32(at, n, le);
    else if (type === MI.UINT32) view.setUint32(at, n, le);
    else if (type === MI.SINGLE) view.setFloat32(at, n, le);
    else if (type === MI.DOUBLE) view.setFloat64(at, n, le);
    else if (type === MI.INT64) view.setBigInt64(at, BigInt(v), le);
    else view.setBigUint64(at, BigInt(v), le);
  });
  return out;
}

/** A data element: the small format (≤ 4 bytes packed with the tag) when it fits, else tag + data padded to 8. */
function element(type: number, payload: Uint8Array, le = true, allowSmall = true): Uint8Array {
  if (allowSmall && payload.length <= 4) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setUint32(0, (payload.length << 16) | type, le);
    out.set(payload, 4);
    return out;
  }
  const out = new Uint8Array(8 + Math.ceil(payload.length / 8) * 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, le);
  view.setUint32(4, payload.length, le);
  out.set(payload, 8);
  return out;
}

function matrix(name: string, classId: number, dims: number[], body: Uint8Array[], options: WriteOptions = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const flags = classId | (options.imag ? 0x0800 : 0) | (options.logical ? 0x0200 : 0);
  return element(
    MI.MATRIX,
    concat([
      element(MI.UINT32, encode(MI.UINT32, [flags, 0], le), le),
      element(MI.INT32, encode(MI.INT32, dims, le), le),
      element(MI.INT8, Buffer.from(name, 'latin1'), le),
      ...body,
    ]),
    le,
    false,
  );
}

function numericArray(name: string, classId: number, dims: number[], miType: number, data: Array<number | bigint>, options: WriteOptions = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const parts = [element(miType, encode(miType, data, le), le)];
  if (options.imag) parts.push(element(miType, encode(miType, options.imag, le), le));
  return matrix(name, classId, dims, parts, options);
}

/** `text` is the column-major character sequence. */
function charArray(name: string, dims: number[], text: string, miType: number = MI.UINT16): Uint8Array {
  const payload = miType === MI.UTF8 ? new Uint8Array(Buffer.from(text, 'utf8')) : encode(MI.UINT16, Array.from(text, (c) => c.charCodeAt(0)));
  return matrix(name, CLASS.char, dims, [element(miType, payload)]);
}

function cellArray(name: string, dims: number[], cells: Uint8Array[]): Uint8Array {
  return matrix(name, CLASS.cell, dims, cells);
}

function structArray(name: string, dims: number[], fields: string[], elements: Uint8Array[][]): Uint8Array {
  const nameLength = Math.max(...fields.map((f) => f.length)) + 1;
  const names = new Uint8Array(nameLength * fields.length);
  fields.forEach((f, i) => names.set(Buffer.from(f, 'latin1'), i * nameLength));
  return matrix(name, CLASS.struct, dims, [element(MI.INT32, encode(MI.INT32, [nameLength])), element(MI.INT8, names), ...elements.flat()]);
}

function compressed(matrixElement: Uint8Array): Uint8Array {
  const z = deflateSync(matrixElement);
  const out = new Uint8Array(8 + z.length); // no padding after compressed data
  const view = new DataView(out.buffer);
  view.setUint32(0, MI.COMPRESSED, true);
  view.setUint32(4, z.length, true);
  out.set(z, 8);
  return out;
}

function matFile(elements: Uint8Array[], options: { littleEndian?: boolean } = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const header = new Uint8Array(128).fill(0x20);
  header.set(Buffer.from('MATLAB 5.0 MAT-file, written by neurodecode tests', 'latin1'));
  header.fill(0, 116, 124); // no subsystem data
  new DataView(header.buffer).setUint16(124, 0x0100, le);
  header.set(Buffer.from(le ? 'IM' : 'MI', 'latin1'), 126);
  return concat([header, ...elements]);
}
