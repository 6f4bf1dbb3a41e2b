import { describe, expect, it } from 'vitest';
import { fromFloat16, toFloat16 } from '../../../core/compute/float16.js';

describe('float16 conversion', () => {
  it('round-trips every finite half value exactly', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
    expect(toFloat16(fromFloat16(bits))).toEqual(bits);
  });

  it('rounds to nearest, ties to even, with overflow to infinity and subnormals (as NumPy astype(float16))', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next binade: rounds up to inf
      [1e6, 0x7c00],
      [1 + 2 ** -11, 0x3c00], // tie → even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie with zero → even (zero)
      [1.5 * 2 ** -25, 0x0001],
      [2 ** -14, 0x0400], // smallest normal
      [-0, 0x8000],
    ];
    for (const [value, expected] of cases) expect(toFloat16(Float32Array.of(value))[0], String(value)).toBe(expected);
    expect(Number.isNaN(fromFloat16(toFloat16(Float32Array.of(NaN)))[0])).toBe(true);
    expect(fromFloat16(Uint16Array.of(0xfc00))[0]).toBe(-Infinity);
  });
});
