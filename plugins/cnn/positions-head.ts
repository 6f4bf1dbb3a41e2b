/**
 * The first half of Mind Reader's head as one memory-bounded op:
 *   Z = ReLU(transpose(Conv1d(C→T, k1)(h))) · W_hᵀ + b_h,   h (B, P, C) channels-last → Z (B, T, H),
 * i.e. per target t the pre-activation of `fc.1` (Conv1d(P→H, k1) over the positions). Written plainly the
 * (B, P, T) activations (32 × 7,872 × 512 floats = 516 MB at paper size) exist four times over (product, bias,
 * transpose, ReLU) and again in the backward pass, which exceeds the wasm heap. Here targets are processed in
 * chunks, in the (B, t, P) layout the next product needs, and the backward pass recomputes each chunk instead of
 * keeping it: only h, the weights and Z stay alive.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';

/** Floats per chunk of (B, t, P) activations by default: 16 M = 64 MB. */
const CHUNK_FLOATS = 1 << 24;

type HeadOp = (h: tfc.Tensor3D, wT: tfc.Tensor2D, bT: tfc.Tensor1D, wH: tfc.Tensor2D, bH: tfc.Tensor1D) => tfc.Tensor3D;
const ops = new WeakMap<TfModule, Map<number, HeadOp>>();

/**
 * h (B, P, C), wT (T, C), bT (T), wH (H, P), bH (H) → Z (B, T, H) with
 * Z[b, t, :] = ReLU(h[b] · wT[t] + bT[t]) · wHᵀ + bH; at most `chunkFloats` activations exist at a time.
 */
export function positionsHidden(
  tf: TfModule,
  h: tfc.Tensor3D,
  wT: tfc.Tensor2D,
  bT: tfc.Tensor1D,
  wH: tfc.Tensor2D,
  bH: tfc.Tensor1D,
  chunkFloats = CHUNK_FLOATS,
): tfc.Tensor3D {
  let byChunk = ops.get(tf);
  if (!byChunk) ops.set(tf, (byChunk = new Map()));
  let op = byChunk.get(chunkFloats);
  if (!op) {
    const custom = tf.customGrad((...args) => {
      const [hIn, wTIn, bTIn, wHIn, bHIn] = args as [tfc.Tensor3D, tfc.Tensor2D, tfc.Tensor1D, tfc.Tensor2D, tfc.Tensor1D];
      (args[5] as tfc.GradSaveFunc)([hIn, wTIn, bTIn, wHIn]);
      const [batch, positions, channels] = hIn.shape;
      const h2 = tf.reshape(hIn, [batch * positions, channels]) as tfc.Tensor2D;
      const wHT = tf.transpose(wHIn) as tfc.Tensor2D; // (P, H)
      const parts = chunks(hIn, wTIn.shape[0], chunkFloats).map(([start, size]) =>
        tf.tidy(() => {
          const [, relu] = activations(tf, h2, batch, wTIn, bTIn, start, size);
          return tf.reshape(tf.matMul(tf.reshape(relu, [batch * size, positions]) as tfc.Tensor2D, wHT), [batch, size, wHT.shape[1]]);
        }),
      );
      const z = tf.add(parts.length === 1 ? parts[0]! : tf.concat(parts, 1), bHIn) as tfc.Tensor3D;
      tf.dispose([h2, wHT, ...parts]);
      return { value: z, gradFunc: (dz: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => gradients(tf, dz as tfc.Tensor3D, saved, chunkFloats) };
    });
    op = (...inputs) => custom(...inputs) as tfc.Tensor3D;
    byChunk.set(chunkFloats, op);
  }
  return op(h, wT, bT, wH, bH);
}

/** Target ranges [start, size) whose (B, size, P) activations hold at most `chunkFloats` values (≥ 1 target). */
function chunks(h: tfc.Tensor3D, targets: number, chunkFloats: number): [number, number][] {
  const [batch, positions] = h.shape;
  const size = Math.max(1, Math.min(targets, Math.floor(chunkFloats / (batch * positions))));
  const out: [number, number][] = [];
  for (let start = 0; start < targets; start += size) out.push([start, Math.min(size, targets - start)]);
  return out;
}

/**
 * Pre-activation A = wT[chunk] · h[b]ᵀ + bT[chunk] and ReLU(A), both (B, size, P), from h (B·P, C): one plain 2-D
 * product and a transpose (tfjs-wasm's batched products are about 8× slower than that).
 */
function activations(tf: TfModule, h2: tfc.Tensor2D, batch: number, wT: tfc.Tensor2D, bT: tfc.Tensor1D, start: number, size: number): [tfc.Tensor3D, tfc.Tensor3D] {
  const wChunkT = tf.transpose(tf.slice(wT, [start, 0], [size, wT.shape[1]])) as tfc.Tensor2D; // (C, size)
  const product = tf.add(tf.matMul(h2, wChunkT), tf.slice(bT, [start], [size])); // (B·P, size)
  const a = tf.transpose(tf.reshape(product, [batch, h2.shape[0] / batch, size]), [0, 2, 1]) as tfc.Tensor3D;
  return [a, tf.relu(a)];
}

/** dh, dwT, dbT, dwH, dbH from dZ (B, T, H), recomputing each chunk's activations. */
function gradients(tf: TfModule, dz: tfc.Tensor3D, saved: tfc.Tensor[], chunkFloats: number): tfc.Tensor[] {
  const [h, wT, bT, wH] = saved as [tfc.Tensor3D, tfc.Tensor2D, tfc.Tensor1D, tfc.Tensor2D];
  const [batch, positions, c] = h.shape;
  const hidden = wH.shape[0];
  const h2 = tf.reshape(h, [batch * positions, c]) as tfc.Tensor2D;
  let dh: tfc.Tensor = tf.zeros(h2.shape);
  let dwH: tfc.Tensor = tf.zeros(wH.shape);
  const dwT: tfc.Tensor[] = [];
  const dbT: tfc.Tensor[] = [];
  for (const [start, size] of chunks(h, wT.shape[0], chunkFloats)) {
    const [dhNext, dwhNext, dw, db] = tf.tidy(() => {
      const [a, relu] = activations(tf, h2, batch, wT, bT, start, size);
      const dzc = tf.reshape(tf.slice(dz, [0, start, 0], [batch, size, hidden]), [batch * size, hidden]) as tfc.Tensor2D;
      const dwhChunk = tf.matMul(tf.transpose(dzc), tf.reshape(relu, [batch * size, positions]) as tfc.Tensor2D); // (H, P)
      const dRelu = tf.reshape(tf.matMul(dzc, wH), [batch, size, positions]);
      const da = tf.mul(dRelu, tf.cast(tf.greater(a, 0), 'float32')); // (B, size, P)
      const daT = tf.reshape(tf.transpose(da, [0, 2, 1]), [batch * positions, size]) as tfc.Tensor2D; // (B·P, size)
      const dwChunk = tf.matMul(tf.transpose(daT), h2); // (size, C)
      const dhChunk = tf.matMul(daT, tf.slice(wT, [start, 0], [size, c]) as tfc.Tensor2D); // (B·P, C)
      return [tf.add(dh, dhChunk), tf.add(dwH, dwhChunk), dwChunk, tf.sum(daT, 0)];
    });
    tf.dispose([dh, dwH]);
    dh = dhNext!;
    dwH = dwhNext!;
    dwT.push(dw!);
    dbT.push(db!);
  }
  const grads = [tf.reshape(dh, h.shape), tf.concat(dwT, 0), tf.concat(dbT, 0), dwH, tf.sum(dz, [0, 1])];
  tf.dispose([h2, dh, ...dwT, ...dbT]);
  return grads;
}
