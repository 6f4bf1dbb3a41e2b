import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededNoise, type NoiseKey } from '../../../core/diffusion/noise.js';

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/diffusion/ddim-reference.json', import.meta.url), 'utf8')) as {
  seededNoise: Array<{ key: NoiseKey; values: number[] }>;
};
const key: NoiseKey = { seed: 42, item: 'nsd-00001', sample: 0, stream: 'init' };

describe('seededNoise: keyed, order-independent Gaussian noise', () => {
  it('equals the Python re-implementation of its documented generator (make_ddim_reference.py)', () => {
    expect(fixture.seededNoise.length).toBe(3);
    for (const { key: k, values } of fixture.seededNoise) expect(Array.from(seededNoise(k, values.length))).toEqual(values);
  });

  it('the same key gives bit-identical values; a shorter draw is a prefix of a longer one', () => {
    const a = seededNoise(key, 4096);
    expect(seededNoise({ ...key }, 4096)).toEqual(a);
    expect(seededNoise(key, 1001)).toEqual(a.subarray(0, 1001));
    expect(seededNoise(key, 0).length).toBe(0);
  });

  it('differs when any field changes', () => {
    const a = seededNoise(key, 64);
    const variants: NoiseKey[] = [
      { ...key, seed: 43 },
      { ...key, seed: -42 },
      { ...key, item: 'nsd-00002' },
      { ...key, sample: 1 },
      { ...key, stream: 'step-0' },
      // Field boundaries are unambiguous (canonical JSON, not concatenation).
      { ...key, item: 'nsd-0000', stream: '1init' },
    ];
    for (const v of variants) {
      const b = seededNoise(v, 64);
      expect(b.some((x, i) => x !== a[i]), JSON.stringify(v)).toBe(true);
    }
  });

  it('is independent of call order', () => {
    const other: NoiseKey = { ...key, item: 'nsd-00077', sample: 2 };
    const aFirst = [seededNoise(key, 256), seededNoise(other, 256)];
    const bFirst = [seededNoise(other, 256), seededNoise(key, 256)];
    expect(aFirst[0]).toEqual(bFirst[1]);
    expect(aFirst[1]).toEqual(bFirst[0]);
  });

  it('is standard normal: mean ≈ 0, variance ≈ 1, tails as expected over 1e5 values', () => {
    const values = seededNoise({ seed: 7, item: 'stats', sample: 0, stream: 'check' }, 100_000);
    let sum = 0;
    let squares = 0;
    let beyond2 = 0;
    for (const v of values) {
      sum += v;
      squares += v * v;
      if (Math.abs(v) > 2) beyond2++;
    }
    const mean = sum / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(squares / values.length - mean * mean - 1)).toBeLessThan(0.02);
    expect(beyond2 / values.length).toBeGreaterThan(0.04); // P(|z| > 2) = 0.0455
    expect(beyond2 / values.length).toBeLessThan(0.051);
    expect(values.every(Number.isFinite)).toBe(true);
  });

  it('refuses keys and lengths it cannot hash faithfully', () => {
    expect(() => seededNoise({ ...key, seed: 1.5 }, 4)).toThrow(/seed must be a safe integer/);
    expect(() => seededNoise({ ...key, sample: -1 }, 4)).toThrow(/sample index/);
    expect(() => seededNoise({ ...key, item: 3 as unknown as string }, 4)).toThrow(/strings/);
    expect(() => seededNoise(key, -1)).toThrow(/length/);
  });
});
