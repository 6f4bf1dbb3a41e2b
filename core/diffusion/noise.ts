/**
 * Keyed Gaussian noise: each draw's values depend on (seed, item, sample, stream) alone — not on what was drawn
 * before — so a resumed, re-ordered or sharded generation gets bit-identical noise.
 *
 * Generator (reproducible elsewhere): the key's canonical JSON `{"seed":…,"item":…,"sample":…,"stream":…}` (that
 * key order, JSON.stringify) as UTF-8 → SHA-256 → the first 16 bytes as four little-endian uint32, the xoshiro128**
 * state s0..s3 → uniforms u = next()/2³² → Box–Muller as in core/rng.ts (u1 = 0 redrawn; r = √(−2 ln u1); the
 * values r·cos(2πu2) then r·sin(2πu2)) → float32. A prefix of a longer draw equals the shorter draw.
 * test/fixtures/diffusion/make_ddim_reference.py implements the same in Python.
 */
import { createHash } from 'node:crypto';

/** The noise stream of one draw. */
export interface NoiseKey {
  seed: number;
  /** The item (e.g. test image id) the noise belongs to. */
  item: string;
  /** Sample index, for several samples per item. */
  sample: number;
  /** Purpose, e.g. 'init', 'encode', 'step-12'. */
  stream: string;
}

function keyState(key: NoiseKey): Uint32Array {
  if (!Number.isSafeInteger(key.seed)) throw new RangeError(`noise seed must be a safe integer; got ${key.seed}`);
  if (!Number.isSafeInteger(key.sample) || key.sample < 0) throw new RangeError(`noise sample index must be an integer ≥ 0; got ${key.sample}`);
  if (typeof key.item !== 'string' || typeof key.stream !== 'string') throw new RangeError('noise item and stream must be strings');
  const canonical = JSON.stringify({ seed: key.seed, item: key.item, sample: key.sample, stream: key.stream });
  const digest = createHash('sha256').update(canonical, 'utf8').digest();
  const state = new Uint32Array(4);
  for (let i = 0; i < 4; i++) state[i] = digest.readUInt32LE(4 * i);
  // xoshiro's one forbidden state; unreachable in practice (SHA-256 giving 128 zero bits), kept for completeness.
  if (state.every((w) => w === 0)) state[0] = 1;
  return state;
}

/** `length` standard-normal float32 values for that key. */
export function seededNoise(key: NoiseKey, length: number): Float32Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`noise length must be an integer ≥ 0; got ${length}`);
  const s = keyState(key);
  let s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
  // xoshiro128** (Blackman & Vigna), the same update as core/rng.ts.
  const uniform = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result / 4294967296;
  };
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    let u1 = 0;
    while (u1 === 0) u1 = uniform();
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
