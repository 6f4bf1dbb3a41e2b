/**
 * Seeded fuzzing of the binary readers: randomly truncated and byte-flipped valid files must either read normally
 * (a flip in data bytes) or throw our UserError — never another error type, never hang or crash.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import { decodeNifti, encodeNifti } from '../../../core/io/nifti.js';
import { decodeNpy, decodeNpyStrings, encodeNpy, encodeNpyStrings, openNpy } from '../../../core/io/npy.js';
import { NpzArchive } from '../../../core/io/npz.js';
import { Rng } from '../../../core/rng.js';

const ITERATIONS = 200;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fuzz-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A truncated copy (every other iteration) or a copy with 1–4 random bytes replaced. */
function mutate(valid: Uint8Array, rng: Rng, iteration: number): Uint8Array {
  if (iteration % 2 === 0) return valid.slice(0, rng.int(valid.length));
  const out = valid.slice();
  const flips = 1 + rng.int(4);
  for (let k = 0; k < flips; k++) out[rng.int(out.length)] = rng.int(256);
  return out;
}

async function expectOnlyUserErrors(name: string, valid: Uint8Array, read: (bytes: Uint8Array) => unknown, seed: number): Promise<number> {
  const rng = new Rng(seed);
  let refused = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const bytes = mutate(valid, rng, i);
    try {
      await read(bytes);
    } catch (error) {
      if (!isUserError(error)) throw new Error(`${name} iteration ${i}: ${String(error)} is not a UserError`);
      refused++;
    }
  }
  return refused;
}

describe('fuzzed files throw UserError or read normally', () => {
  const rng = new Rng(1);
  const volume = { shape: [4, 5, 3], data: Int16Array.from({ length: 60 }, () => rng.int(2000) - 1000), sclSlope: 0.5, sclInter: 1 };
  const nii = encodeNifti({ ...volume, affine: [[2, 0, 0, -4], [0, 2, 0, 3], [0, 0, 2, 1], [0, 0, 0, 1]] });

  it('.nii', async () => {
    const refused = await expectOnlyUserErrors('.nii', nii, (b) => decodeNifti(b, 'fuzz.nii'), 11);
    // Every truncation loses data, so at least half the iterations must be refused.
    expect(refused).toBeGreaterThanOrEqual(ITERATIONS / 2);
  });

  it('.nii.gz', async () => {
    const refused = await expectOnlyUserErrors('.nii.gz', encodeNifti(volume, { gzip: true }), (b) => decodeNifti(b, 'fuzz.nii.gz'), 12);
    expect(refused).toBeGreaterThanOrEqual(ITERATIONS / 2);
  });

  it('.npy (whole, strings, and streamed from a file)', async () => {
    const npy = encodeNpy({ shape: [6, 4], data: Float64Array.from({ length: 24 }, () => rng.normal()) });
    expect(await expectOnlyUserErrors('.npy', npy, (b) => decodeNpy(b, 'fuzz.npy'), 13)).toBeGreaterThanOrEqual(ITERATIONS / 2);
    const strings = encodeNpyStrings({ shape: [3, 2], strings: ['a cat', 'two dogs', 'é', '', 'x', 'yz'] });
    expect(await expectOnlyUserErrors('<U npy', strings, (b) => decodeNpyStrings(b, 'fuzz.npy'), 14)).toBeGreaterThanOrEqual(ITERATIONS / 2);
    const path = join(dir, 'fuzz.npy');
    const streamed = await expectOnlyUserErrors(
      'streamed .npy',
      npy,
      async (b) => {
        await writeFile(path, b);
        const file = await openNpy(path);
        try {
          if (file.dtype.kind === 'U' || file.dtype.kind === 'S') await file.readStringRows(0, file.rows);
          else await file.readRows(0, file.rows);
        } finally {
          await file.close();
        }
      },
      15,
    );
    expect(streamed).toBeGreaterThanOrEqual(ITERATIONS / 2);
  });

  it('.npz (stored and deflated)', async () => {
    const member = encodeNpy({ shape: [5, 3], data: Float32Array.from({ length: 15 }, (_, i) => i) });
    for (const level of [0, 6] as const) {
      const npz = zipSync({ 'x.npy': member, 'y.npy': member }, { level });
      const refused = await expectOnlyUserErrors(
        `.npz level ${level}`,
        npz,
        (b) => {
          const archive = NpzArchive.fromBytes(b, 'fuzz.npz');
          for (const name of archive.names) archive.array(name);
        },
        16 + level,
      );
      expect(refused).toBeGreaterThanOrEqual(ITERATIONS / 2);
    }
  });
});
