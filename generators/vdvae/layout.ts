/**
 * Where each decoder block's latent lives in the flat `vdvae` target: Brain-Diffuser flattens stats[i]['z'] (each
 * [zdim, r, r]) block by block, in decoder order, coarse to fine. With ImageNet-64's dec_blocks that is
 * 2 blocks at 1², 4 at 4², 8 at 8², 16 at 16², 32 at 32², 13 at 64²: the first 31 blocks give 91,168 values and
 * the first 15 give 2·16 + 4·256 + 8·1024 + 1·4096 = 13,344.
 */
import { UserError } from '../../core/errors.js';

/** The resolution of each decoder block of a VDVAE `dec_blocks` string ('1x2,4m1,…': `rxn` n blocks at r, `rmk` one at r mixing in k). */
export function decoderResolutions(decBlocks: string, where: string): number[] {
  const resolutions: number[] = [];
  for (const part of decBlocks.split(',')) {
    const match = /^(\d+)(?:([xmd])(\d+))?$/.exec(part.trim());
    if (!match) throw new UserError(`dec_blocks '${decBlocks}': '${part}' is not of the form 'r', 'rxN' or 'rmK'`, where);
    const [, res, kind, n] = match;
    const count = kind === 'x' ? Number(n) : 1;
    for (let i = 0; i < count; i++) resolutions.push(Number(res));
  }
  return resolutions;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export class LatentLayout {
  /** Values of z per block (zdim · r²), in decoder order. */
  readonly sizes: number[];
  /** offsets[i] = where block i starts; offsets[n] = every block's values. */
  readonly offsets: number[];

  constructor(
    readonly resolutions: readonly number[],
    readonly zdim: number,
  ) {
    this.sizes = resolutions.map((r) => zdim * r * r);
    this.offsets = [0];
    for (const size of this.sizes) this.offsets.push(this.offsets[this.offsets.length - 1]! + size);
  }

  get blocks(): number {
    return this.sizes.length;
  }

  /** Values of the first `layers` blocks' latents. */
  values(layers: number): number {
    return this.offsets[layers]!;
  }

  /** The number of layers whose latents have `values` values, if any. */
  layersOf(values: number): number | undefined {
    const k = this.offsets.indexOf(values);
    return k > 0 ? k : undefined;
  }

  /** E.g. "2 × 16·1² + 4 × 16·4² + 8 × 16·8² + 1 × 16·16²" for 15 ImageNet-64 layers. */
  describe(layers: number): string {
    const runs: Array<{ r: number; n: number }> = [];
    for (const r of this.resolutions.slice(0, layers)) {
      const last = runs[runs.length - 1];
      if (last?.r === r) last.n++;
      else runs.push({ r, n: 1 });
    }
    return runs.map(({ r, n }) => `${n} × ${this.zdim}·${r}²`).join(' + ');
  }

  /** "13,344 values = 15 layers" style phrase. */
  phrase(layers: number): string {
    return `${fmt(this.values(layers))} values = the first ${layers} layer${layers === 1 ? '' : 's'} (${this.describe(layers)})`;
  }
}

export { fmt as formatCount };
