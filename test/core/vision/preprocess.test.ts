import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import {
  inceptionTransformInput,
  networkInput,
  pixelMetricImages,
  pytorchFidInput,
  type FeatureNetwork,
  type NetworkInput,
} from '../../../core/vision/preprocess.js';
import { resizeBilinear, shorterSideSize } from '../../../core/vision/resize.js';
import { patternImage } from '../../helpers/vision.js';

interface Summary {
  shape: number[];
  channelMeans: number[];
  indices: number[];
  values: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/vision/preprocess.json', import.meta.url), 'utf8')) as {
  cases: Array<{ name: string; height: number; width: number; channels: number; kind: number; results: Record<string, Summary> }>;
};
const NETWORKS: FeatureNetwork[] = ['alexnet', 'inception', 'clip', 'effnet', 'swav'];

/** Largest absolute difference to the fixture's sampled values and channel means; the shape must match. */
function difference(got: { data: Float32Array; shape: number[]; planeSize: number }, want: Summary): number {
  expect(got.shape).toEqual(want.shape);
  let worst = 0;
  want.indices.forEach((index, k) => (worst = Math.max(worst, Math.abs(got.data[index]! - want.values[k]!))));
  want.channelMeans.forEach((mean, c) => {
    let sum = 0;
    for (let i = c * got.planeSize; i < (c + 1) * got.planeSize; i++) sum += got.data[i]!;
    worst = Math.max(worst, Math.abs(sum / got.planeSize - mean));
  });
  return worst;
}

const asNchw = (x: NetworkInput) => ({ data: x.data, shape: [x.count, x.channels, x.height, x.width], planeSize: x.height * x.width });

describe('feature-network inputs against torchvision / PIL (test/fixtures/vision/make_preprocess.py)', () => {
  it('covers five images of 64², 425², 500×375, 512² and a gray 96×80', () => {
    expect(fixture.cases.map((c) => c.name)).toEqual(['smooth-64', 'edges-425', 'noise-375x500', 'mixed-512', 'gray-80x96']);
  });

  for (const c of fixture.cases) {
    const images = patternImage(c.height, c.width, c.channels, c.kind);

    it(`${c.name}: brain-diffuser (PIL bilinear 224, ToTensor, mean/std) within 1e-4, and transform_input`, async () => {
      for (const network of NETWORKS) {
        const input = await networkInput(images, network, 'brain-diffuser');
        expect(input.convertedFromGray).toBe(c.channels === 1);
        expect(difference(asNchw(input), c.results[`brain-diffuser/${network}`]!), network).toBeLessThanOrEqual(1e-4);
        if (network === 'inception') {
          const transformed = inceptionTransformInput(input);
          expect(difference(asNchw(transformed), c.results['brain-diffuser/inception/transform-input']!)).toBeLessThanOrEqual(1e-4);
        }
      }
    });

    it(`${c.name}: mindeye (tensor bilinear Resize per network, with and without antialias) within 1e-4`, async () => {
      for (const network of NETWORKS) {
        for (const antialias of [false, true]) {
          const input = await networkInput(images, network, 'mindeye', { antialias });
          const key = `mindeye/${network}${antialias ? '/antialias' : ''}`;
          expect(difference(asNchw(input), c.results[key]!), key).toBeLessThanOrEqual(1e-4);
        }
      }
      // Without the option: no antialias, as MindEye's torchvision 0.14/0.15 did on tensors.
      const plain = await networkInput(images, 'alexnet', 'mindeye');
      expect(difference(asNchw(plain), c.results['mindeye/alexnet']!)).toBeLessThanOrEqual(1e-4);
    });

    it(`${c.name}: pytorch-fid (bilinear 299, 2x − 1) within 1e-4`, () => {
      expect(difference(asNchw(pytorchFidInput(images)), c.results['pytorch-fid']!)).toBeLessThanOrEqual(1e-4);
    });

    if (c.channels === 3) {
      it(`${c.name}: 425-pixel PixCorr/SSIM images (PIL default filter 425²; tensor bilinear Resize(425)) within 1e-4`, async () => {
        for (const convention of ['brain-diffuser', 'mindeye'] as const) {
          const out = await pixelMetricImages(images, convention);
          // The fixture is NCHW: compare through a transposed copy.
          const nchw = new Float32Array(out.data.length);
          const plane = out.height * out.width;
          for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) nchw[ch * plane + p] = out.data[p * 3 + ch]!;
          expect(difference({ data: nchw, shape: [1, 3, out.height, out.width], planeSize: plane }, c.results[`pixel/${convention}`]!), convention).toBeLessThanOrEqual(1e-4);
        }
      });
    }
  }

  it('the gray image is repeated into R, G and B and says so', async () => {
    const gray = patternImage(8, 8, 1, 2);
    const input = await networkInput(gray, 'alexnet', 'mindeye');
    expect(input.convertedFromGray).toBe(true);
    const plane = input.height * input.width;
    expect(input.channels).toBe(3);
    // Undo the normalisation: the three channels hold the same resized gray values.
    const raw = (c: number, i: number) => input.data[c * plane + i]! * [0.229, 0.224, 0.225][c]! + [0.485, 0.456, 0.406][c]!;
    for (let i = 0; i < plane; i += 97) {
      expect(raw(1, i)).toBeCloseTo(raw(0, i), 5);
      expect(raw(2, i)).toBeCloseTo(raw(0, i), 5);
    }
  });
});

describe('bilinear tensor resize', () => {
  it('upsamples a 1-D ramp as aten does by hand (align_corners = False, edges clamped)', () => {
    // 2 → 4: source positions (d + 0.5)/2 − 0.5 = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (last pixel alone).
    const out = resizeBilinear({ planes: 1, height: 1, width: 2, data: Float32Array.of(0, 8) }, 1, 4, { antialias: false });
    expect(Array.from(out.data)).toEqual([0, 2, 6, 8]);
  });

  it('halving without antialias reads two pixels, with antialias averages the triangle footprint', () => {
    const src = { planes: 1, height: 1, width: 4, data: Float32Array.of(0, 4, 8, 100) };
    // Without: positions 0.5 and 2.5 → (0 + 4)/2, (8 + 100)/2.
    expect(Array.from(resizeBilinear(src, 1, 2, { antialias: false }).data)).toEqual([2, 54]);
    // With: centre 1 and 3, support 2, weights (0.5, 1.5, 1.5, 0.5)/4 clipped at the edges → (1.5·0 + 1.5·4 + 0.5·8)/3.5 …
    const aa = resizeBilinear(src, 1, 2, { antialias: true }).data;
    expect(aa[0]).toBeCloseTo((0.75 * 0 + 0.75 * 4 + 0.25 * 8) / 1.75, 5);
    expect(aa[1]).toBeCloseTo((0.25 * 4 + 0.75 * 8 + 0.75 * 100) / 1.75, 5);
  });

  it('Resize(int) keeps the aspect ratio as torchvision does', () => {
    expect(shorterSideSize(425, 425, 256)).toEqual({ height: 256, width: 256 });
    expect(shorterSideSize(375, 500, 342)).toEqual({ height: 342, width: 456 });
    expect(shorterSideSize(500, 375, 255)).toEqual({ height: 340, width: 255 });
  });
});

describe('network input: bad input', () => {
  it('refuses 4-channel batches, empty batches and non-finite values, naming the network', async () => {
    const rgba = { count: 1, height: 2, width: 2, channels: 4, data: new Float32Array(16) };
    await expect(networkInput(rgba, 'clip', 'mindeye')).rejects.toThrow(UserError);
    await expect(networkInput(rgba, 'clip', 'mindeye')).rejects.toThrow(/clip input: images have 4 channels; expected 3/);
    const empty = { count: 0, height: 2, width: 2, channels: 3, data: new Float32Array(0) };
    await expect(networkInput(empty, 'alexnet', 'brain-diffuser')).rejects.toThrow(/no images/);
    const nan = { count: 2, height: 2, width: 2, channels: 3, data: new Float32Array(24) };
    nan.data[13] = Number.NaN;
    await expect(networkInput(nan, 'effnet', 'mindeye')).rejects.toThrow(/effnet input: image 1 has a non-finite value/);
    expect(() => pytorchFidInput(nan)).toThrow(/FID input: image 1/);
  });
});
