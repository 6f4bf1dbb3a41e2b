import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import { decodeNpy, decodeNpyStrings, encodeNpy, encodeNpyStrings, openNpy, readNpy, writeNpy } from '../../../core/io/npy.js';
import { NpzArchive, readNpz } from '../../../core/io/npz.js';

const FIXTURES = new URL('../../fixtures/io/', import.meta.url);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A .npy file with any header text, as NumPy lays it out (v1.0, header padded to 64 bytes). */
function handNpy(descr: string, shape: string, body: Uint8Array, fortran = false): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((11 + header.length) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, 10 + header.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function expectUserError(run: () => unknown, pattern: RegExp): Promise<void> {
  try {
    await run();
  } catch (error) {
    expect(isUserError(error), String(error)).toBe(true);
    expect(String(error)).toMatch(pattern);
    return;
  }
  throw new Error('expected a UserError');
}

describe('whole-array .npy', () => {
  it('writes float64 and reads it back (header as NumPy writes it, 64-byte aligned)', async () => {
    const data = Float64Array.from([1 / 3, -2e-300, 1e300, 0.1]);
    const path = join(dir, 'f8.npy');
    await writeNpy(path, { shape: [2, 2], data });
    const bytes = new Uint8Array(await readFile(path));
    expect(Buffer.from(bytes.subarray(10, 70)).toString('latin1')).toContain("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }");
    expect((bytes.length - 4 * 8) % 64).toBe(0);
    const back = await readNpy(path);
    expect(back.shape).toEqual([2, 2]);
    expect(back.data).toBeInstanceOf(Float64Array);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    const narrowed = await readNpy(path, { float32: true });
    expect(narrowed.data).toBeInstanceOf(Float32Array);
    expect(Array.from(narrowed.data)).toEqual(Array.from(Float32Array.from(data)));
  });

  it('reads integer, bool and big-endian dtypes', () => {
    const cases: Array<[string, Uint8Array, number[]]> = [
      ['<i2', bytesOf(Int16Array.from([-32768, 7])), [-32768, 7]],
      ['<i4', bytesOf(Int32Array.from([-5, 2 ** 31 - 1])), [-5, 2 ** 31 - 1]],
      ['|u1', Uint8Array.from([0, 255]), [0, 255]],
      ['<u2', bytesOf(Uint16Array.from([65535, 1])), [65535, 1]],
      ['|b1', Uint8Array.from([1, 0]), [1, 0]],
      ['<i8', bytesOf(BigInt64Array.from([-(2n ** 53n), 42n])), [-(2 ** 53), 42]],
      ['>f4', Uint8Array.from([0x3f, 0xc0, 0, 0, 0xc0, 0x10, 0, 0]), [1.5, -2.25]],
      ['>f8', Uint8Array.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0x02, 0, 0, 0, 0, 0, 0]), [1.5, -2.25]],
      ['>i2', Uint8Array.from([0xff, 0xfe, 0x01, 0x2c]), [-2, 300]],
    ];
    for (const [descr, body, expected] of cases) {
      const array = decodeNpy(handNpy(descr, '(2,)', body));
      expect(array.shape, descr).toEqual([2]);
      expect(Array.from(array.data), descr).toEqual(expected);
    }
  });

  it('refuses 64-bit integers beyond 2^53, object arrays and truncated data', async () => {
    await expectUserError(() => decodeNpy(handNpy('<i8', '(1,)', bytesOf(BigInt64Array.from([2n ** 60n])))), /beyond 2\^53/);
    await expectUserError(() => decodeNpy(handNpy('|O', '(1,)', new Uint8Array(8))), /pickled object array/);
    await expectUserError(() => decodeNpy(handNpy('<f4', '(3,)', new Uint8Array(11)), 'x.npy'), /x\.npy: .*truncated data: expected 12 bytes/);
    await expectUserError(() => decodeNpy(new Uint8Array([1, 2, 3])), /\\x93NUMPY magic/);
  });

  it('transposes a Fortran-order array to C order', () => {
    // The 2×3 matrix [[0, 1, 2], [3, 4, 5]] stored column by column.
    const array = decodeNpy(handNpy('<f4', '(2, 3)', bytesOf(Float32Array.from([0, 3, 1, 4, 2, 5])), true));
    expect(Array.from(array.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads a Fortran-order big-endian 3-D array saved by NumPy (fixture)', async () => {
    // test/fixtures/io/numpy-fortran-be.npy = np.asfortranarray(np.arange(24, dtype='>f8').reshape(2, 3, 4))
    const array = await readNpy(new URL('numpy-fortran-be.npy', FIXTURES).pathname);
    expect(array.shape).toEqual([2, 3, 4]);
    expect(Array.from(array.data)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('round-trips unicode string arrays', () => {
    const strings = ['a cat', 'un café ☕', '', 'two 🐕 on a sofa'];
    const decoded = decodeNpyStrings(encodeNpyStrings({ shape: [2, 2], strings }));
    expect(decoded.shape).toEqual([2, 2]);
    expect(decoded.strings).toEqual(strings);
  });
});

describe('openNpy: row streaming', () => {
  it('reads row ranges at offsets, optionally as float32', async () => {
    const data = Float64Array.from({ length: 15 }, (_, i) => i + 0.25);
    const path = join(dir, 'rows.npy');
    await writeNpy(path, { shape: [5, 3], data });
    const file = await openNpy(path);
    try {
      expect(file.shape).toEqual([5, 3]);
      expect(file.dtype.descr).toBe('<f8');
      expect(file.fortranOrder).toBe(false);
      const rows = await file.readRows(1, 4);
      expect(rows).toBeInstanceOf(Float64Array);
      expect(Array.from(rows)).toEqual([3.25, 4.25, 5.25, 6.25, 7.25, 8.25, 9.25, 10.25, 11.25]);
      const last = await file.readRows(4, 5, { float32: true });
      expect(last).toBeInstanceOf(Float32Array);
      expect(Array.from(last)).toEqual([12.25, 13.25, 14.25]);
      expect((await file.readRows(2, 2)).length).toBe(0);
      await expect(file.readRows(3, 6)).rejects.toThrow(RangeError);
      await expectUserError(() => file.readStringRows(0, 1), /not strings/);
    } finally {
      await file.close();
    }
  });

  it('streams rows of a big-endian and a unicode array', async () => {
    const be = join(dir, 'be.npy');
    await writeFile(be, handNpy('>f4', '(3, 1)', Uint8Array.from([0x3f, 0x80, 0, 0, 0x40, 0, 0, 0, 0xc0, 0x40, 0, 0])));
    const beFile = await openNpy(be);
    expect(Array.from(await beFile.readRows(1, 3))).toEqual([2, -3]);
    await beFile.close();

    const captions = join(dir, 'captions.npy');
    const strings = ['c0a', 'c0b', 'c0c', 'c0d', 'c0e', 'a dog', 'ein Hund', '', 'é', '🐕', 'x', 'y', 'z', 'w', 'v'];
    await writeFile(captions, encodeNpyStrings({ shape: [3, 5], strings }));
    const file = await openNpy(captions);
    expect(file.dtype.kind).toBe('U');
    expect(await file.readStringRows(1, 3)).toEqual([strings.slice(5, 10), strings.slice(10, 15)]);
    await expectUserError(() => file.readRows(0, 1), /holds strings/);
    await file.close();
  });

  it('refuses a truncated file at open and Fortran-order row streaming', async () => {
    const bytes = encodeNpy({ shape: [4, 2], data: new Float32Array(8) });
    const truncated = join(dir, 'trunc.npy');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 3));
    await expectUserError(() => openNpy(truncated), /trunc\.npy: .*truncated data/);
    await expectUserError(() => openNpy(join(dir, 'missing.npy')), /missing\.npy: cannot open \(ENOENT\)/);
    const fortran = join(dir, 'fortran.npy');
    await writeFile(fortran, handNpy('<f4', '(2, 3)', new Uint8Array(24), true));
    const file = await openNpy(fortran);
    await expectUserError(() => file.readRows(0, 1), /Fortran order/);
    await file.close();
  });
});

describe('.npz', () => {
  const a = encodeNpy({ shape: [2, 2], data: Float64Array.from([1, 2, 3, 4]) });
  const b = encodeNpyStrings({ shape: [2], strings: ['x', 'yz'] });

  it('lists and reads members of stored and deflated archives built with fflate', () => {
    for (const level of [0, 6] as const) {
      const archive = NpzArchive.fromBytes(zipSync({ 'a.npy': a, 'caps.npy': b }, { level }));
      expect(archive.names).toEqual(['a', 'caps']);
      expect(archive.members[0]!.compression).toBe(level === 0 ? 'stored' : 'deflate');
      expect(archive.members[0]!.size).toBe(a.length);
      expect(Array.from(archive.array('a').data)).toEqual([1, 2, 3, 4]);
      expect(archive.header('a').shape).toEqual([2, 2]);
      expect(archive.strings('caps').strings).toEqual(['x', 'yz']);
    }
  });

  it('names the missing member and refuses a non-zip file', async () => {
    const archive = NpzArchive.fromBytes(zipSync({ 'a.npy': a }), 'pair.npz');
    await expectUserError(() => archive.array('b'), /pair\.npz: has no array 'b' \(found: a\)/);
    await expectUserError(() => NpzArchive.fromBytes(new Uint8Array(100), 'junk.npz'), /junk\.npz: not a valid \.npz/);
  });

  it('reads an archive written by np.savez_compressed (fixture)', async () => {
    // test/fixtures/io/numpy-made.npz, written by make_numpy_fixtures.py (numpy 1.24.2).
    const archive = await readNpz(new URL('numpy-made.npz', FIXTURES).pathname);
    expect(archive.names.sort()).toEqual(['be', 'cap', 'f8', 'i2', 'i8']);
    const f8 = archive.array('f8');
    expect(f8.shape).toEqual([3, 4]);
    expect(Array.from(f8.data)).toEqual(Array.from({ length: 12 }, (_, k) => k / 8 - 0.5));
    expect(Array.from(archive.array('i2').data)).toEqual([-32768, -1, 0, 1, 2, 32767]);
    expect(Array.from(archive.array('be').data)).toEqual(Array.from(Float32Array.from([1.5, -2.25, 3e-3, 1e30])));
    expect(Array.from(archive.array('i8').data)).toEqual([-(2 ** 53), 0, 2 ** 53]);
    expect(archive.strings('cap')).toEqual({ shape: [2, 2], strings: ['a cat', 'un café ☕', '', 'two dogs on a sofa'] });
  });
});
