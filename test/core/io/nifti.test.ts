import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import {
  cOrderIndex,
  decodeNifti,
  encodeNifti,
  fileOrderIndex,
  maskVoxelsInNibabelOrder,
  readNifti,
  readNiftiHeader,
  writeNifti,
} from '../../../core/io/nifti.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nifti-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const AFFINE = [
  [-2, 0, 0, 90],
  [0, 2, 0, -126],
  [0, 0, 2.5, -72],
  [0, 0, 0, 1],
];

function expectUserError(run: () => unknown, pattern: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(isUserError(error)).toBe(true);
    expect(String(error)).toMatch(pattern);
    return;
  }
  throw new Error('expected a UserError');
}

/** A NIfTI-1 header built field by field, in either byte order (data appended as given). */
function handNifti1(options: {
  littleEndian: boolean;
  shape: number[];
  datatype: number;
  bitpix: number;
  data: Uint8Array;
  pixdim?: number[];
  slope?: number;
  inter?: number;
  qform?: { code: number; b: number; c: number; d: number; offset: number[] };
  sform?: { code: number; rows: number[][] };
}): Uint8Array {
  const le = options.littleEndian;
  const out = new Uint8Array(352 + options.data.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, le);
  [options.shape.length, ...options.shape].forEach((n, i) => v.setInt16(40 + 2 * i, n, le));
  v.setInt16(70, options.datatype, le);
  v.setInt16(72, options.bitpix, le);
  (options.pixdim ?? [1, 1, 1, 1]).forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, 352, le);
  v.setFloat32(112, options.slope ?? 0, le);
  v.setFloat32(116, options.inter ?? 0, le);
  if (options.qform) {
    v.setInt16(252, options.qform.code, le);
    [options.qform.b, options.qform.c, options.qform.d, ...options.qform.offset].forEach((q, i) => v.setFloat32(256 + 4 * i, q, le));
  }
  if (options.sform) {
    v.setInt16(254, options.sform.code, le);
    options.sform.rows.flat().forEach((s, i) => v.setFloat32(280 + 4 * i, s, le));
  }
  out.set(Buffer.from('n+1\0', 'latin1'), 344);
  out.set(options.data, 352);
  return out;
}

describe('NIfTI-1 writer → reader round trip', () => {
  it('keeps int16 data, shape and affine (.nii and .nii.gz, gzip found by magic)', async () => {
    const data = Int16Array.from({ length: 24 }, (_, i) => (i - 12) * 1000);
    for (const name of ['map.nii', 'map.nii.gz']) {
      await writeNifti(join(dir, name), { shape: [2, 3, 4], data, affine: AFFINE, description: 'weights' });
      const volume = await readNifti(join(dir, name));
      expect(volume.header.version).toBe(1);
      expect(volume.header.shape).toEqual([2, 3, 4]);
      expect(volume.header.datatype).toBe('int16');
      expect(volume.header.sformCode).toBe(2);
      expect(volume.header.affine).toEqual(AFFINE);
      expect(volume.header.pixdim.slice(1, 4)).toEqual([2, 2, 2.5]);
      expect(volume.header.description).toBe('weights');
      expect(volume.scaled).toBe(false);
      expect(volume.data).toBeInstanceOf(Int16Array);
      expect(Array.from(volume.data)).toEqual(Array.from(data));
    }
    // A gzip stream under a .nii name is still recognised.
    await writeFile(join(dir, 'gz-named.nii'), encodeNifti({ shape: [2, 3, 4], data }, { gzip: true }));
    expect(Array.from((await readNifti(join(dir, 'gz-named.nii'))).data)).toEqual(Array.from(data));
  });

  it('keeps float32 data exactly', () => {
    const data = Float32Array.from([0.1, -2.5e-8, 3.4e38, -0, 1 / 3, 7]);
    const volume = decodeNifti(encodeNifti({ shape: [3, 2], data }));
    expect(volume.data).toBeInstanceOf(Float32Array);
    expect(Array.from(volume.data)).toEqual(Array.from(data));
    // No sform and no qform: nibabel's base affine (x flipped, centred): 3×2×1 voxels of size 1.
    expect(volume.header.affine).toEqual([
      [-1, 0, 0, 1],
      [0, 1, 0, -0.5],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
  });

  it('applies scl_slope / scl_inter, and keeps raw integers when they are (1, 0) or slope is 0', () => {
    const raw = Int16Array.from([0, 1, -2, 300]);
    const scaled = decodeNifti(encodeNifti({ shape: [4], data: raw, sclSlope: 0.5, sclInter: 10 }));
    expect(scaled.scaled).toBe(true);
    expect(scaled.data).toBeInstanceOf(Float32Array);
    expect(Array.from(scaled.data)).toEqual([10, 10.5, 9, 160]);
    const wide = decodeNifti(encodeNifti({ shape: [2], data: Int32Array.from([3, -4]), sclSlope: 2, sclInter: -1 }));
    expect(wide.data).toBeInstanceOf(Float64Array);
    expect(Array.from(wide.data)).toEqual([5, -9]);
    for (const [sclSlope, sclInter] of [[1, 0], [0, 5]]) {
      const plain = decodeNifti(encodeNifti({ shape: [4], data: raw, sclSlope, sclInter }));
      expect(plain.scaled).toBe(false);
      expect(plain.data).toBeInstanceOf(Int16Array);
      expect(Array.from(plain.data)).toEqual([0, 1, -2, 300]);
    }
  });
});

describe('hand-built headers', () => {
  it('reads big-endian int16 and scaled float32 data', () => {
    const be16 = new Uint8Array([0x00, 0x01, 0xff, 0xfe, 0x01, 0x2c, 0x12, 0x34]); // 1, −2, 300, 0x1234
    const volume = decodeNifti(handNifti1({ littleEndian: false, shape: [2, 2, 1], datatype: 4, bitpix: 16, data: be16 }));
    expect(volume.header.littleEndian).toBe(false);
    expect(Array.from(volume.data)).toEqual([1, -2, 300, 0x1234]);

    const f32 = new Uint8Array(8);
    new DataView(f32.buffer).setFloat32(0, 1.5, false);
    new DataView(f32.buffer).setFloat32(4, -4, false);
    const scaled = decodeNifti(handNifti1({ littleEndian: false, shape: [2], datatype: 16, bitpix: 32, data: f32, slope: 2, inter: 1 }));
    expect(Array.from(scaled.data)).toEqual([4, -7]);
  });

  it('computes the affine from the qform quaternion, and prefers the sform when both are set', () => {
    // b = 0, c = 1, d = 0 is a 180° turn about y; qfac = pixdim[0] = −1 flips z back (as in nibabel's functional.nii).
    const qform = { code: 1, b: 0, c: 1, d: 0, offset: [32, -40, 0] };
    const data = new Uint8Array(2);
    const q = decodeNifti(handNifti1({ littleEndian: true, shape: [2], datatype: 2, bitpix: 8, data, pixdim: [-1, 4, 4, 8], qform }));
    expect(q.header.qform).toEqual([
      [-4, 0, 0, 32],
      [0, 4, 0, -40],
      [0, 0, 8, 0],
      [0, 0, 0, 1],
    ]);
    expect(q.header.affine).toEqual(q.header.qform);
    expect(q.header.sform).toBeNull();
    const both = decodeNifti(handNifti1({ littleEndian: true, shape: [2], datatype: 2, bitpix: 8, data, pixdim: [-1, 4, 4, 8], qform, sform: { code: 1, rows: AFFINE.slice(0, 3) } }));
    expect(both.header.affine).toEqual(AFFINE);
  });

  it('reads a NIfTI-2 file (540-byte header, 64-bit dims, float64 srows)', () => {
    const out = new Uint8Array(544 + 4 * 4);
    const v = new DataView(out.buffer);
    v.setInt32(0, 540, true);
    out.set(Buffer.from('n+2\0\r\n\x1a\n', 'latin1'), 4);
    v.setInt16(12, 16, true); // float32
    v.setInt16(14, 32, true);
    [3, 2, 2, 1, 1, 1, 1, 1].forEach((n, i) => v.setBigInt64(16 + 8 * i, BigInt(n), true));
    [1, 1.5, 1.5, 1.5].forEach((p, i) => v.setFloat64(104 + 8 * i, p, true));
    v.setBigInt64(168, 544n, true);
    v.setFloat64(176, 1, true);
    v.setInt32(348, 4, true); // sform_code MNI
    const rows = [[1.5, 0, 0, -10.25], [0, 1.5, 0, 20.125], [0, 0, 1.5, 0.1]];
    rows.flat().forEach((s, i) => v.setFloat64(400 + 8 * i, s, true));
    [0.5, -1, 2e-7, 9].forEach((x, i) => v.setFloat32(544 + 4 * i, x, true));
    const volume = decodeNifti(out);
    expect(volume.header.version).toBe(2);
    expect(volume.header.shape).toEqual([2, 2, 1]);
    expect(volume.header.affine).toEqual([...rows, [0, 0, 0, 1]]);
    expect(Array.from(volume.data)).toEqual(Array.from(Float32Array.from([0.5, -1, 2e-7, 9])));
  });

  it('refuses truncated data, a wrong magic and unknown datatypes with UserErrors', () => {
    const good = encodeNifti({ shape: [4, 4], data: new Float32Array(16) });
    expectUserError(() => decodeNifti(good.subarray(0, good.length - 1), 'a.nii'), /a\.nii: truncated NIfTI data/);
    expectUserError(() => decodeNifti(good.subarray(0, 200)), /truncated NIfTI-1 header/);
    const gz = gzipSync(good);
    expectUserError(() => decodeNifti(gz.subarray(0, gz.length - 5), 'b.nii.gz'), /b\.nii\.gz: corrupt or truncated gzip/);
    const badMagic = good.slice();
    badMagic[345] = 0x3f;
    expectUserError(() => decodeNifti(badMagic), /bad NIfTI-1 magic/);
    const complex = good.slice();
    new DataView(complex.buffer).setInt16(70, 32, true);
    expectUserError(() => decodeNifti(complex), /datatype 32 is not supported/);
    expectUserError(() => decodeNifti(new Uint8Array([1, 2, 3, 4, 5])), /not a NIfTI file/);
  });
});

describe('voxel order helpers', () => {
  const shape = [2, 3, 4];

  it('cOrderIndex is z + Z·(y + Y·x), fileOrderIndex is x + X·(y + Y·z)', () => {
    expect(cOrderIndex(0, 0, 1, shape)).toBe(1);
    expect(cOrderIndex(0, 1, 0, shape)).toBe(4);
    expect(cOrderIndex(1, 0, 0, shape)).toBe(12);
    expect(cOrderIndex(1, 2, 3, shape)).toBe(23);
    expect(fileOrderIndex(1, 0, 0, shape)).toBe(1);
    expect(fileOrderIndex(0, 1, 0, shape)).toBe(2);
    expect(fileOrderIndex(0, 0, 1, shape)).toBe(6);
    expect(fileOrderIndex(1, 2, 3, shape)).toBe(23);
  });

  it('lists mask voxels as NumPy enumerates mask > 0 on nibabel’s (X, Y, Z) array', () => {
    const mask = new Float32Array(24).fill(0);
    mask[fileOrderIndex(1, 0, 0, shape)] = 1; // file index 1, C index 12
    mask[fileOrderIndex(0, 2, 3, shape)] = 3; // file index 22, C index 11
    mask[fileOrderIndex(0, 0, 1, shape)] = 2; // file index 6, C index 1
    mask[fileOrderIndex(1, 1, 1, shape)] = -1; // outside the brain
    // C order (x slowest): (0,0,1), (0,2,3), (1,0,0) — not the file-order sequence 1, 6, 22.
    expect(Array.from(maskVoxelsInNibabelOrder(mask, shape))).toEqual([6, 22, 1]);
    expect(Array.from(maskVoxelsInNibabelOrder(mask, shape, (v) => v !== 0))).toEqual([6, 22, 1, fileOrderIndex(1, 1, 1, shape)]);
  });
});

// Files shipped by Debian's python3-nibabel 5.0.0. Expected values were printed once with nibabel 5.0.0 / numpy
// 1.24.2: img = nib.load(f); img.shape; img.dataobj.slope/inter/offset; img.affine; img.get_qform();
// np.asarray(img.dataobj)[index] (scaled) and np.asanyarray(img.dataobj.get_unscaled())[index].
const NIBABEL_DATA = '/usr/lib/python3/dist-packages/nibabel/tests/data';
const haveNibabel = existsSync(join(NIBABEL_DATA, 'functional.nii'));
if (!haveNibabel) console.warn(`skipping nibabel file tests: ${NIBABEL_DATA} not found (apt-get install python3-nibabel)`);

describe.skipIf(!haveNibabel)('nibabel test files', () => {
  const at = (shape: number[], ...index: number[]) => index.reduce((flat, i, k) => flat + i * shape.slice(0, k).reduce((a, b) => a * b, 1), 0);

  it('functional.nii: 4-D int16 with slope/intercept', async () => {
    const v = await readNifti(join(NIBABEL_DATA, 'functional.nii'));
    expect(v.header.shape).toEqual([17, 21, 3, 20]);
    expect(v.header.sclSlope).toBeCloseTo(0.07540696859359741, 12);
    expect(v.header.sclInter).toBe(3100.76171875);
    expect(v.header.affine).toEqual([[-4, 0, 0, 32], [0, 4, 0, -40], [0, 0, 8, 0], [0, 0, 0, 1]]);
    expect(v.scaled).toBe(true);
    expect(v.data[at(v.header.shape, 0, 0, 0, 0)]).toBe(Math.fround(4004.137202501297)); // raw 11980
    expect(v.data[at(v.header.shape, 8, 10, 1, 0)]).toBe(Math.fround(3865.7654151320457)); // raw 10145
    expect(v.data[at(v.header.shape, 16, 20, 2, 19)]).toBe(Math.fround(3129.3409598469734)); // raw 379
    expect(v.data[at(v.header.shape, 3, 4, 1, 7)]).toBe(Math.fround(3762.156240284443));
  });

  it('anatomical.nii: big-endian int16', async () => {
    const v = await readNifti(join(NIBABEL_DATA, 'anatomical.nii'));
    expect(v.header.littleEndian).toBe(false);
    expect(v.header.shape).toEqual([33, 41, 25]);
    expect(v.data).toBeInstanceOf(Int16Array);
    expect(v.data[at(v.header.shape, 0, 0, 0)]).toBe(10712);
    expect(v.data[at(v.header.shape, 16, 20, 12)]).toBe(11881);
    expect(v.data[at(v.header.shape, 32, 40, 24)]).toBe(2971);
    expect(v.data[at(v.header.shape, 10, 20, 5)]).toBe(8577);
    expect(Array.from(v.data).reduce((a, b) => a + b, 0)).toBe(284166082);
  });

  it('example4d.nii.gz (extensions, vox_offset 416) and example_nifti2.nii.gz', async () => {
    const sform = [
      [-2.0, 6.714715653593746e-19, 9.081024511081715e-18, 117.8551025390625],
      [-6.714715653593746e-19, 1.9737114906311035, -0.35552823543548584, -35.72294235229492],
      [8.25548088896093e-18, 0.3232076168060303, 2.171081781387329, -7.248798370361328],
      [0, 0, 0, 1],
    ];
    const qform = [
      [-1.999999995978187, 1.0282396754185892e-5, 0.00013905980362440367, 117.8551025390625],
      [-1.0282396754185892e-5, 1.9737114380364735, -0.3555282247524397, -35.72294235229492],
      [0.00012641805535562603, 0.32320761014906196, 2.1710816833341227, -7.248798370361328],
      [0, 0, 0, 1],
    ];
    const v1 = await readNifti(join(NIBABEL_DATA, 'example4d.nii.gz'));
    expect(v1.header.voxOffset).toBe(416);
    expect(v1.header.shape).toEqual([128, 96, 24, 2]);
    expect(v1.header.affine).toEqual(sform);
    v1.header.qform!.flat().forEach((value, i) => expect(value).toBeCloseTo(qform.flat()[i]!, 12));
    expect(v1.data[at(v1.header.shape, 64, 48, 12, 0)]).toBe(265);
    expect(v1.data[at(v1.header.shape, 64, 48, 12, 1)]).toBe(266);
    expect(v1.data[at(v1.header.shape, 60, 40, 10, 1)]).toBe(463);

    const v2 = await readNifti(join(NIBABEL_DATA, 'example_nifti2.nii.gz'));
    expect(v2.header.version).toBe(2);
    expect(v2.header.voxOffset).toBe(608);
    expect(v2.header.shape).toEqual([32, 20, 12, 2]);
    expect(v2.header.affine).toEqual(sform);
    expect(v2.data[at(v2.header.shape, 0, 0, 0, 0)]).toBe(424);
    expect(v2.data[at(v2.header.shape, 31, 19, 11, 0)]).toBe(484);
    expect(v2.data[at(v2.header.shape, 3, 5, 7, 1)]).toBe(425);
    expect(Array.from(v2.data).reduce((a, b) => a + b, 0)).toBe(6926802);

    const header = await readNiftiHeader(join(NIBABEL_DATA, 'example_nifti2.nii.gz'));
    expect(header).toEqual(v2.header);
  });
});
