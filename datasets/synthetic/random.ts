import { Rng } from '../../core/rng.js';

/**
 * An independent random stream for one named purpose, e.g. `stream(seed, 'scene:shared', 12)`. Each stimulus,
 * subject cortex and noise draw has its own stream, so changing one count (say trainImages) leaves every other
 * stimulus and voxel unchanged.
 */
export function stream(seed: number, label: string, index = 0): Rng {
  // FNV-1a over the label, mixed with the seed and index (murmur3 finaliser).
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  h = mix(h ^ mix(seed >>> 0));
  h = mix(h ^ mix((index >>> 0) + 0x6a09e667));
  return new Rng(h);
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Fills `out` with standard normals (Marsaglia's polar method, both values used: the trial noise draws millions). */
export function fillNormal(rng: Rng, out: Float64Array): void {
  for (let i = 0; i < out.length; ) {
    const u = 2 * rng.uniform() - 1;
    const v = 2 * rng.uniform() - 1;
    const s = u * u + v * v;
    if (s === 0 || s >= 1) continue;
    const scale = Math.sqrt((-2 * Math.log(s)) / s);
    out[i++] = u * scale;
    if (i < out.length) out[i++] = v * scale;
  }
}
