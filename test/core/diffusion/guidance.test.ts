import { describe, expect, it } from 'vitest';
import { classifierFreeGuidance, guidanceBatch } from '../../../core/diffusion/guidance.js';

describe('classifier-free guidance on the [uncond; cond] batch', () => {
  const uncond = Float32Array.of(0.1, -0.2, 0.3, 0.4, -0.5, 0.6); // two latents of 3 values
  const cond = Float32Array.of(1.5, 2.5, -3.5, 0.25, 0.125, -1);
  const output = guidanceBatch(uncond, cond);

  it('builds the batch unconditional first', () => {
    expect(Array.from(output)).toEqual([...uncond, ...cond]);
    expect(() => guidanceBatch(uncond, cond.subarray(1))).toThrow(/differ in size/);
  });

  it('scale 1 returns the conditional half, scale 0 the unconditional half', () => {
    expect(classifierFreeGuidance(output, 3, 1)).toEqual(cond);
    expect(classifierFreeGuidance(output, 3, 0)).toEqual(uncond);
  });

  it('ε = ε_u + s·(ε_c − ε_u) per value, n latents out', () => {
    const guided = classifierFreeGuidance(output, 3, 7.5);
    expect(guided.length).toBe(6);
    expect(Array.from(guided)).toEqual(Array.from(uncond, (u, i) => Math.fround(u + 7.5 * (cond[i]! - u))));
    // One latent of 6 values gives the same numbers: guidance is elementwise over the halves.
    expect(classifierFreeGuidance(output, 6, 7.5)).toEqual(guided);
  });

  it('refuses an output that is not 2·n latents of the given size', () => {
    expect(() => classifierFreeGuidance(output, 4, 1)).toThrow(/not 2·n latents of 4 values/);
    expect(() => classifierFreeGuidance(new Float32Array(0), 3, 1)).toThrow(RangeError);
    expect(() => classifierFreeGuidance(output, 0, 1)).toThrow(/positive integer/);
    expect(() => classifierFreeGuidance(output, 3, Number.NaN)).toThrow(/finite/);
  });
});
