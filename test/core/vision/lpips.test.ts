import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { LPIPS_ALEX_CHANNELS, lpipsDistance, lpipsInput, readLpipsWeights, type FeatureMaps } from '../../../core/vision/lpips.js';
import { hashUniform, patternImage } from '../../helpers/vision.js';

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/vision/lpips.json', import.meta.url), 'utf8')) as {
  weightsSha256: string;
  weightSamples: Array<[number, number, number]>;
  count: number;
  taps: Array<[number, number, number]>;
  distances: number[];
  perTap: number[][];
  same: number[];
  scaledInput: number[];
};
const weightsFile = new URL('../../../metrics/lpips/alex-v0.1-lin.json', import.meta.url).pathname;

/** Tap k of one image set as make_lpips.py builds it: max(0, u − 0.25), u hashed from (n·C + c, y·W + x, seed). */
function tap(k: number, seed: number): FeatureMaps {
  const [channels, height, width] = fixture.taps[k]!;
  const u = hashUniform(fixture.count * channels, height * width, seed);
  return { count: fixture.count, channels, height, width, data: u.map((v) => Math.max(v - 0.25, 0)) };
}

describe('LPIPS v0.1 (alex) against its definition computed with torch (test/fixtures/vision/make_lpips.py)', () => {
  it('ships the converted lin weights of the published checkpoint, value for value', async () => {
    const shipped = JSON.parse(readFileSync(weightsFile, 'utf8')) as { sha256: string };
    expect(shipped.sha256).toBe('df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0');
    expect(fixture.weightsSha256).toBe(shipped.sha256);
    const lin = await readLpipsWeights(weightsFile);
    expect(lin.map((w) => w.length)).toEqual([...LPIPS_ALEX_CHANNELS]);
    for (const [layer, index, value] of fixture.weightSamples) expect(lin[layer]![index]).toBe(Math.fround(value));
  });

  it('per-item distances within 1e-5 of torch, an all-zero position included; 0 for identical features', async () => {
    const lin = await readLpipsWeights(weightsFile);
    const f0 = fixture.taps.map((_, k) => tap(k, 21 + k));
    const f1 = fixture.taps.map((_, k) => tap(k, 31 + k));
    const zeroed = f1[2]!;
    const plane = zeroed.height * zeroed.width;
    for (let c = 0; c < zeroed.channels; c++) zeroed.data[(1 * zeroed.channels + c) * plane] = 0;
    const d = lpipsDistance(f0, f1, lin);
    expect(d.length).toBe(fixture.count);
    d.forEach((value, n) => expect(Math.abs(value - fixture.distances[n]!)).toBeLessThanOrEqual(1e-5));
    // Tap by tap (one lin layer at a time) too.
    fixture.perTap.forEach((want, k) => {
      const one = lpipsDistance([f0[k]!], [f1[k]!], [lin[k]!]);
      one.forEach((value, n) => expect(Math.abs(value - want[n]!)).toBeLessThanOrEqual(1e-6));
    });
    expect(Array.from(lpipsDistance(f0, f0, lin))).toEqual(fixture.same);
  });

  it('input: [0, 1] → [−1, 1] → ScalingLayer, within 1e-6 of torch', () => {
    const input = lpipsInput(patternImage(8, 8, 3, 3));
    expect([input.count, input.channels, input.height, input.width]).toEqual([1, 3, 8, 8]);
    input.data.forEach((v, i) => expect(Math.abs(v - fixture.scaledInput[i]!)).toBeLessThanOrEqual(1e-6));
  });

  it('refuses mismatched taps and weights, and malformed weight files, naming the file and field', async () => {
    const lin = await readLpipsWeights(weightsFile);
    const f = fixture.taps.map((_, k) => tap(k, 21 + k));
    expect(() => lpipsDistance(f, f.slice(0, 4), lin)).toThrow(UserError);
    expect(() => lpipsDistance([f[0]!], [f[1]!], [lin[0]!])).toThrow(/tap 0: 3×64×15×15 against 3×192×7×7; expected equal shapes/);
    expect(() => lpipsDistance([f[1]!], [f[1]!], [lin[0]!])).toThrow(/tap 0 has 192 channels but its lin layer 64 weights/);
    const dir = await mkdtemp(join(tmpdir(), 'nd-lpips-'));
    try {
      const bad = join(dir, 'w.json');
      const parsed = JSON.parse(readFileSync(weightsFile, 'utf8')) as { layers: Array<{ weights: unknown[] }> };
      parsed.layers[3]!.weights[7] = 'x';
      await writeFile(bad, JSON.stringify(parsed));
      await expect(readLpipsWeights(bad)).rejects.toThrow(/w\.json: layers\[3\]\.weights: expected 256 finite numbers/);
      await writeFile(bad, '{"layers": []}');
      await expect(readLpipsWeights(bad)).rejects.toThrow(/'layers' has 0 entries; expected 5/);
      await expect(readLpipsWeights(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read LPIPS weights/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
