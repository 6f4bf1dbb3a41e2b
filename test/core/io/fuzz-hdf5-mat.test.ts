/**
 * Fuzzing the HDF5 and MAT readers: randomly truncated and byte-flipped versions of valid files must either read
 * (a flip in data bytes) or throw our UserError — never another error, never a crash or a hang. Seeded, so a
 * failure names the iteration to replay.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import { loadHdf5, withHdf5 } from '../../../core/io/hdf5.js';
import { decodeMat, readMat } from '../../../core/io/mat.js';
import { Rng } from '../../../core/rng.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/io/', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'neurodecode-fuzz-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Mutation {
  truncateTo?: number;
  flips: Array<[offset: number, mask: number]>;
}

/** Truncation, 1–4 byte flips (half of them in the first 512 bytes, where the headers are), or both. */
function mutate(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; mutation: Mutation } {
  const kind = rng.int(3);
  const mutation: Mutation = { flips: [] };
  let out = Uint8Array.from(bytes);
  if (kind !== 1) {
    mutation.truncateTo = rng.int(bytes.length);
    out = out.subarray(0, mutation.truncateTo);
  }
  if (kind !== 0 && out.length > 0) {
    for (let n = 1 + rng.int(4); n > 0; n--) {
      const offset = rng.int(rng.uniform() < 0.5 ? Math.min(512, out.length) : out.length);
      const mask = 1 + rng.int(255);
      out[offset]! ^= mask;
      mutation.flips.push([offset, mask]);
    }
  }
  return { bytes: out, mutation };
}

/** Runs `read` on each mutated input; collects every outcome that is neither a return nor a UserError. */
async function fuzz(
  inputs: Uint8Array[],
  iterations: number,
  seed: number,
  read: (bytes: Uint8Array, iteration: number) => unknown,
): Promise<{ ok: number; userErrors: number; failures: string[] }> {
  const rng = new Rng(seed);
  const result = { ok: 0, userErrors: 0, failures: [] as string[] };
  for (let iteration = 0; iteration < iterations; iteration++) {
    const input = inputs[iteration % inputs.length]!;
    const { bytes, mutation } = mutate(input, rng);
    try {
      await read(bytes, iteration);
      result.ok++;
    } catch (error) {
      if (isUserError(error)) result.userErrors++;
      else result.failures.push(`iteration ${iteration} ${JSON.stringify(mutation)}: ${String(error)}`);
    }
  }
  return result;
}

describe('fuzzing the HDF5 reader', () => {
  it('truncated or flipped HDF5 files read or throw UserError, 200 iterations', async () => {
    const h5 = await loadHdf5();
    const inputs: Uint8Array[] = [];
    // NSD-like betas (old format, gzip, one chunk per voxel) and a THINGS-like table (new format, strings, int64).
    const betasPath = join(dir, 'betas.h5');
    let f = new h5.File(betasPath, 'w', { libver: ['earliest', 'v108'] });
    f.create_dataset({ name: 'betas', data: Int16Array.from({ length: 6 * 27 }, (_, i) => i * 3 - 200), shape: [6, 3, 3, 3], chunks: [6, 1, 1, 1], compression: 'gzip', compression_opts: 4 });
    f.close();
    inputs.push(await readFile(betasPath));
    const tablePath = join(dir, 'table.h5');
    f = new h5.File(tablePath, 'w');
    const g = f.create_group('ResponseData');
    g.create_attribute('pandas_type', 'frame');
    g.create_dataset({ name: 'block0_values', data: Float64Array.from({ length: 40 }, (_, i) => i / 7), shape: [4, 10] });
    g.create_dataset({ name: 'block1_items', data: ['voxel_id'] });
    g.create_dataset({ name: 'block1_values', data: BigInt64Array.from([5n, 6n, 7n, 8n]), shape: [4, 1] });
    f.close();
    inputs.push(await readFile(tablePath));

    const mutated = join(dir, 'mutated.h5');
    const { ok, userErrors, failures } = await fuzz(inputs, 200, 20240601, async (bytes) => {
      await writeFile(mutated, bytes);
      // A file that sends libhdf5 into an endless loop (about 1 in 20,000) costs the watchdog's timeout, here 5 s.
      await withHdf5(
        mutated,
        (file) => {
          for (const path of file.datasetPaths()) {
            const info = file.info(path);
            if (info.dtype === 'string') file.readStrings(path);
            else file.read(path, { maxBytesPerRead: 64 });
          }
        },
        { timeoutMs: 5000 },
      );
    });
    expect(failures).toEqual([]);
    // Both outcomes occur: the loop exercised the error paths and the read paths.
    expect(userErrors).toBeGreaterThan(50);
    expect(ok).toBeGreaterThan(0);
    // The HDF5 module still works after all of that.
    await withHdf5(betasPath, (file) => expect(file.readSlice('/betas', [[0, 2], 0, 0, 0])).toEqual(Int16Array.from([-200, -119])));
  });
});

describe('fuzzing the MAT reader', () => {
  it('truncated or flipped Level-5 files (scipy-written, plain and compressed) read or throw UserError, 300 iterations', async () => {
    const inputs = await Promise.all(['nsd_expdesign_like_v5.mat', 'nsd_expdesign_like_v5z.mat'].map((n) => readFile(join(FIXTURES, n))));
    const { ok, userErrors, failures } = await fuzz(inputs, 300, 7, (bytes) => decodeMat(bytes, 'fuzz.mat'));
    expect(failures).toEqual([]);
    expect(userErrors).toBeGreaterThan(100);
    expect(ok).toBeGreaterThan(0);
  });

  it('also through readMat on disk, including v7.3 detection, 60 iterations', async () => {
    const inputs = await Promise.all(['nsd_expdesign_like_v5.mat', 'nsd_expdesign_like_v5z.mat'].map((n) => readFile(join(FIXTURES, n))));
    const path = join(dir, 'mutated.mat');
    const { failures } = await fuzz(inputs, 60, 11, async (bytes) => {
      await writeFile(path, bytes);
      return readMat(path);
    });
    expect(failures).toEqual([]);
  });
});
