/**
 * Takagi & Nishimoto's decoding on the tiny SD graphs exported from torch (test/fixtures/stable-diffusion/), step by
 * step against the torch/NumPy reference recorded on the same graphs, and the exporters' graph variants.
 */
import { describe, expect, it } from 'vitest';
import { img2imgPlan } from '../../core/diffusion/ddim.js';
import { SD_V1_SCHEDULE } from '../../core/diffusion/schedule.js';
import { TOKENS } from '../../core/tokens.js';
import type { ModelStore } from '../../core/models/store.js';
import { TakagiDecoder } from '../../generators/stable-diffusion/decoder.js';
import { openSdGraphs } from '../../generators/stable-diffusion/sd-graphs.js';
import { perTestScratch } from '../helpers/core.js';
import { tinySdReference, writeTinyStableDiffusion, type TinySdVariant, type TinyTensor, type TinyU8 } from '../helpers/tiny-stable-diffusion.js';

const scratch = perTestScratch('nd-sd-');
const ref = tinySdReference();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const item = (t: TinyTensor, i: number) => {
  const size = t.data.length / t.shape[0]!;
  return t.data.subarray(i * size, (i + 1) * size);
};

/** HWC bytes of item i as a raster. */
const raster = (u8: TinyU8, i: number) => {
  const [, h, w, c] = u8.shape as [number, number, number, number];
  return { width: w, height: h, channels: c, data: u8.data.subarray(i * h * w * c, (i + 1) * h * w * c) };
};

/** NCHW reference bytes of item i → HWC, to compare with our rasters. */
function hwc(u8: TinyU8, i: number): Uint8Array {
  const [, c, h, w] = u8.shape as [number, number, number, number];
  const out = new Uint8Array(h * w * c);
  for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) out[p * c + k] = u8.data[(i * c + k) * h * w + p]!;
  return out;
}

async function decoderFor(variant: TinySdVariant = {}, start: 'compvis' | 'diffusers' = 'compvis') {
  const core = await scratch.core();
  const models = core.container.get<ModelStore>(TOKENS.Models);
  const dir = await writeTinyStableDiffusion(await scratch.dir(), variant);
  const graphs = await openSdGraphs(models, await models.folder(dir, 'test'));
  const uncond = await graphs.encodeText(ref.emptyIds.data, 1);
  const plan = img2imgPlan(SD_V1_SCHEDULE, { steps: 50, strength: 0.8, eta: 0, start });
  return { graphs, uncond, decoder: new TakagiDecoder(graphs, { plan, guidance: 5, initSize: 64, initResize: 'pillow-default' }, uncond) };
}

describe('Takagi decoding on the tiny graphs equals the torch reference', () => {
  it('A–D step by step, case a (CompVis start: noise at t=801, then 781 … 1): latents ≤ 1e-5', async () => {
    const { uncond, decoder } = await decoderFor();
    expect(maxAbsDiff(uncond, ref.uc.data)).toBeLessThan(1e-5);
    const a = ref.cases.a;
    expect(a.noiseTimestep).toBe(801);
    // A: the decoded prediction, quantised by truncation (bytes equal unless a pixel sat within float error of an integer).
    const small = await decoder.initRaster(item(a.zPred, 0));
    const differing = small.data.filter((v, k) => v !== raster(a.initU8Small, 0).data[k]).length;
    expect(differing).toBeLessThanOrEqual(a.initTruncation?.float32PathDifferingPixels ?? 0);
    // B: the reference's 64² init image re-encoded with its posterior noise.
    const z0 = await decoder.initLatent(raster(a.initU8, 0), item(a.epsPosterior, 0));
    expect(maxAbsDiff(z0, item(a.z0, 0))).toBeLessThan(1e-5);
    // C: 40 guided DDIM steps from the reference's z0.
    const latent = await decoder.denoise(item(a.z0, 0), item(a.cPred, 0), item(a.epsEncode, 0));
    const diff = maxAbsDiff(latent, item(a.finalLatent, 0));
    expect(diff).toBeLessThan(1e-5);
    // D: the image; bytes may differ only where 255·x was within float error of an integer.
    const image = await decoder.image(item(a.finalLatent, 0));
    const bytes = hwc(a.finalU8, 0);
    const off = image.data.filter((v, k) => v !== bytes[k]).length;
    expect(off).toBeLessThanOrEqual(a.finalTruncation.float32PathDifferingPixels);
    expect(maxAbsDiff(image.data, bytes)).toBeLessThanOrEqual(1);
  });

  it("the diffusers PyTorch img2img start (noise at t=781) and a batch of two items", async () => {
    const { decoder } = await decoderFor({}, 'diffusers');
    const d = ref.cases['a-diffusers-start'];
    expect(d.noiseTimestep).toBe(781);
    expect(maxAbsDiff(await decoder.denoise(item(d.z0, 0), item(d.cPred, 0), item(d.epsEncode, 0)), item(d.finalLatent, 0))).toBeLessThan(1e-5);
    const { decoder: compvis } = await decoderFor();
    const b = ref.cases.b;
    for (const i of [0, 1]) {
      const latent = await compvis.denoise(item(b.z0, i), item(b.cPred, i), item(b.epsEncode, i));
      expect(maxAbsDiff(latent, item(b.finalLatent, i))).toBeLessThan(1e-5);
    }
  });

  it("every exporter's graph variant gives the same latents (int64 ids, int64 / scalar timestep, optimum's external data; fp16 within 1e-2)", async () => {
    const a = ref.cases.a;
    const variants: Array<[TinySdVariant, number]> = [
      [{ ids: 'int64' }, 1e-5],
      [{ timestep: 'int64' }, 1e-5],
      [{ timestep: 'scalar' }, 1e-5],
      [{ externalData: 'model.onnx_data' }, 1e-5],
      [{ timestep: 'fp16' }, 1e-2],
    ];
    for (const [variant, tolerance] of variants) {
      const { decoder, graphs } = await decoderFor(variant);
      const latent = await decoder.denoise(item(a.z0, 0), item(a.cPred, 0), item(a.epsEncode, 0));
      expect(maxAbsDiff(latent, item(a.finalLatent, 0)), `${JSON.stringify(variant)}: ${graphs.description}`).toBeLessThan(tolerance);
    }
    // latent_sample (the diffusers script): the graph's own sample (ours: the mean), no noise of ours.
    const { decoder, graphs } = await decoderFor({ vaeEncoder: 'sample' });
    expect(graphs.description).toMatch(/latent_sample \(a sample drawn inside the graph/);
    const mean = await (await decoderFor()).decoder.initLatent(raster(a.initU8, 0), null);
    expect(maxAbsDiff(await decoder.initLatent(raster(a.initU8, 0), item(a.epsPosterior, 0)), mean)).toBeLessThan(1e-5);
  });
});

