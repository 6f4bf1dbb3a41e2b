import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactCache } from '../../../core/cache.js';
import { encodeOnnxModel } from '../../../core/compute/onnx-model.js';
import { createOnnxSessions } from '../../../core/compute/onnx.js';
import { silentLogger } from '../../../core/logging.js';
import type { ImageBatch, Matrix } from '../../../core/tensor.js';
import type { NetworkInput } from '../../../core/vision/index.js';
import { FeatureNetwork, flattened, GrayNotice, imagesDigest, TruthFeatureCache } from '../../../metrics/common/feature-network.js';
import { featureGraph } from '../../helpers/models.js';

const sessions = createOnnxSessions({ providers: ['cpu'], threads: 1 });
/** features = 2 · per-channel mean, input `images`. */
const network = async (batch: number) => new FeatureNetwork(await sessions.open(encodeOnnxModel(featureGraph({ inputName: 'images' }))), 'images', "metric 'test'", batch);

/** Image n, channel c is the constant n + c/10 over a 2×2 plane (HWC). */
function constantImages(count: number): ImageBatch {
  return { count, height: 2, width: 2, channels: 3, data: Float32Array.from({ length: count * 12 }, (_, i) => Math.floor(i / 12) + (i % 3) / 10) };
}

/** The network input of a batch: the HWC values as NCHW planes, no resize; `sizes` records each batch's count. */
function asInput(batch: ImageBatch, sizes: number[] = [], overrides: Partial<NetworkInput> = {}): NetworkInput {
  sizes.push(batch.count);
  const data = new Float32Array(batch.count * 12);
  for (let n = 0; n < batch.count; n++) for (let p = 0; p < 4; p++) for (let c = 0; c < 3; c++) data[(n * 3 + c) * 4 + p] = batch.data[(n * 4 + p) * 3 + c]!;
  return { count: batch.count, channels: 3, height: 2, width: 2, data, convertedFromGray: false, ...overrides };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('FeatureNetwork', () => {
  it('runs in batches and concatenates each output in image order', async () => {
    // 7 images prepared and run in batches of 3 (3 + 3 + 1): features of image n are 2·(n, n + 0.1, n + 0.2).
    const sizes: number[] = [];
    const out = (await (await network(3)).run(constantImages(7), (batch) => asInput(batch, sizes), ['features'])).features!;
    expect(sizes).toEqual([3, 3, 1]);
    expect(out.shape).toEqual([3]);
    const m = flattened(out);
    expect([m.rows, m.cols]).toEqual([7, 3]);
    for (let n = 0; n < 7; n++) {
      for (let c = 0; c < 3; c++) expect(m.data[n * 3 + c]).toBeCloseTo(2 * (n + c / 10), 5);
    }
  });

  it('refuses a non-finite output, naming the output and the image', async () => {
    const images = constantImages(4);
    images.data.fill(3e38, 2 * 12, 3 * 12); // image 2: 2 · 3e38 overflows float32
    await expect((await network(2)).run(images, (batch) => asInput(batch), ['features'])).rejects.toThrow(/metric 'test'.*output 'features' has a non-finite value for image 2/);
  });
});

describe('TruthFeatureCache', () => {
  const images = (value: number): ImageBatch => ({ count: 2, height: 1, width: 1, channels: 3, data: new Float32Array(6).fill(value) });
  const counting = () => {
    let calls = 0;
    const compute = async (): Promise<Matrix> => ({ rows: 2, cols: 1, data: Float32Array.from([++calls, 0]) });
    return { compute, calls: () => calls };
  };

  it('computes ground-truth features once per model, extraction and images, and serves them from disk after', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nd-features-'));
    const cache = new ArtifactCache(dir, silentLogger);
    const { compute, calls } = counting();
    const first = new TruthFeatureCache(cache, 'model-a');
    const a = await first.features(images(0.5), { output: 'relu2' }, compute);
    expect(Array.from(a.data)).toEqual([1, 0]);
    await first.features(images(0.5), { output: 'relu2' }, compute); // same process
    expect(calls()).toBe(1);
    const again = await new TruthFeatureCache(cache, 'model-a').features(images(0.5), { output: 'relu2' }, compute); // a later run
    expect(Array.from(again.data)).toEqual([1, 0]);
    expect(calls()).toBe(1);
    expect(await readdir(join(dir, 'features'))).toHaveLength(1);

    // Other weights, another extraction, other images: never served the stored features.
    await new TruthFeatureCache(cache, 'model-b').features(images(0.5), { output: 'relu2' }, compute);
    await first.features(images(0.5), { output: 'relu5' }, compute);
    await first.features(images(0.25), { output: 'relu2' }, compute);
    expect(calls()).toBe(4);
  });

  it('identifies images by shape and values', () => {
    const a = images(0.5);
    expect(imagesDigest(a)).toBe(imagesDigest(images(0.5)));
    expect(imagesDigest(a)).not.toBe(imagesDigest({ ...a, height: 2, width: 1, count: 1 }));
  });
});

describe('GrayNotice', () => {
  it('warns once, naming the metric, when a gray batch was converted to RGB', () => {
    const warnings: string[] = [];
    const notice = new GrayNotice({ ...silentLogger, warn: (m) => warnings.push(m) }, "metric 'alexnet-2'");
    const input = asInput(constantImages(1));
    expect(notice.checked(input, 'reconstructions')).toBe(input);
    expect(warnings).toEqual([]);
    notice.checked(asInput(constantImages(1), [], { convertedFromGray: true }), 'reconstructions');
    notice.checked(asInput(constantImages(1), [], { convertedFromGray: true }), 'ground-truth images');
    expect(warnings).toEqual(["metric 'alexnet-2': the reconstructions are grayscale; converted to RGB (gray repeated in R, G and B) for the network"]);
  });
});
