import { describe, expect, it } from 'vitest';
import type { PluginRegistrar, StimulusBatch } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { ImageBatch } from '../../core/tensor.js';
import { manifest, register } from '../../generators/pixels/index.js';
import { PixelsGenerator } from '../../generators/pixels/pixels.js';
import { testServices } from './helpers.js';

/** 2 images of 2×3 pixels × 2 channels; value = image·0.5 + y·0.2 + x·0.05 + channel·0.01. */
function tinyImages(): ImageBatch {
  const data = new Float32Array(2 * 2 * 3 * 2);
  for (let i = 0; i < 2; i++) {
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        for (let c = 0; c < 2; c++) data[((i * 2 + y) * 3 + x) * 2 + c] = i * 0.5 + y * 0.2 + x * 0.05 + c * 0.01;
      }
    }
  }
  return { count: 2, height: 2, width: 3, channels: 2, data };
}

function batch(images: ImageBatch): StimulusBatch {
  return { ids: Array.from({ length: images.count }, (_, i) => `img${i}`), images };
}

describe('pixels generator', () => {
  it('targets the flattened HWC pixels, in order', async () => {
    const images = tinyImages();
    const fitted = await new PixelsGenerator().fit(batch(images));
    expect(fitted.targets()).toEqual([{ name: 'pixels', dims: 12 }]);
    const { pixels } = await fitted.encode(batch(images));
    expect([pixels!.rows, pixels!.cols]).toEqual([2, 12]);
    // Image 1, row y = 1, column x = 2, channel 1 sits at 1·12 + (1·3 + 2)·2 + 1 = 23.
    expect(pixels!.data[23]).toBeCloseTo(0.5 + 0.2 + 0.1 + 0.01, 7);
    expect(pixels!.data[0]).toBe(0);
    // The targets are a copy: changing them leaves the stimuli alone.
    pixels!.data[0] = 0.9;
    expect(images.data[0]).toBe(0);
  });

  it('round-trips exactly and restores the image shape', async () => {
    const images = tinyImages();
    const fitted = await new PixelsGenerator().fit(batch(images));
    const generated = await fitted.generate(await fitted.encode(batch(images)));
    expect([generated.count, generated.height, generated.width, generated.channels]).toEqual([2, 2, 3, 2]);
    expect(generated.data).toEqual(images.data);
  });

  it('clips predictions to [0, 1]', async () => {
    const fitted = await new PixelsGenerator().fit(batch(tinyImages()));
    const values = Float32Array.from([-0.5, 1.7, 0.3, 0, 1, -1e-7, 1 + 1e-6, 0.999, 42, -42, 0.5, 0.25]);
    const generated = await fitted.generate({ pixels: { rows: 1, cols: 12, data: values } });
    expect(Array.from(generated.data)).toEqual(
      Array.from(Float32Array.from([0, 1, 0.3, 0, 1, 0, 1, 0.999, 1, 0, 0.5, 0.25])),
    );
  });

  it('rejects a missing space, a wrong width, non-finite values and other image shapes', async () => {
    const fitted = await new PixelsGenerator().fit(batch(tinyImages()));
    await expect(fitted.generate({})).rejects.toThrow(/needs predicted 'pixels' targets, got: none/);
    await expect(fitted.generate({ pixels: { rows: 1, cols: 11, data: new Float32Array(11) } })).rejects.toThrow(
      /11 columns, expected 12/,
    );
    const withNaN = new Float32Array(24);
    withNaN[13] = NaN;
    await expect(fitted.generate({ pixels: { rows: 2, cols: 12, data: withNaN } })).rejects.toThrow(/non-finite value \(row 1\)/);
    const other = { count: 1, height: 3, width: 2, channels: 2, data: new Float32Array(12) };
    await expect(fitted.encode(batch(other))).rejects.toThrow(UserError);
  });

  it('registers a factory under the manifest id', async () => {
    expect(manifest.name).toBe('neurodecode-generator-pixels');
    expect(manifest.provides.map((c) => [c.kind, c.id])).toEqual([['generator', 'pixels']]);
    let factory: Parameters<PluginRegistrar['generator']>[1] | undefined;
    register({ generator: (id, f) => (factory = id === 'pixels' ? f : undefined) } as PluginRegistrar);
    const generator = await factory!.create({}, testServices());
    const fitted = await generator.fit(batch(tinyImages()), { seed: 0 });
    expect(fitted.targets()).toEqual([{ name: 'pixels', dims: 12 }]);
  });
});
