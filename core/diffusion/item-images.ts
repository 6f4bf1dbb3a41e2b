/**
 * A latent-diffusion generator's cache entry for one item: per sample, the decoded 8-bit image (sample-k.png) and
 * the final latent it came from (latent-k.npy). Stable Diffusion and Versatile Diffusion keep their images so.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../io/npy.js';
import { decodePng, encodePng, type RasterImage } from '../io/png.js';

export interface ItemImages {
  images: RasterImage[];
  latents: Float32Array[];
}

export const itemImagesIo = {
  async read(dir: string): Promise<ItemImages> {
    const meta = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as { samples: number };
    const out: ItemImages = { images: [], latents: [] };
    for (let k = 0; k < meta.samples; k++) {
      out.images.push(decodePng(await readFile(join(dir, `sample-${k}.png`)), join(dir, `sample-${k}.png`)));
      out.latents.push((await readNpy(join(dir, `latent-${k}.npy`))).data as Float32Array);
    }
    return out;
  },
  async write(dir: string, value: ItemImages): Promise<void> {
    for (const [k, image] of value.images.entries()) {
      await writeFile(join(dir, `sample-${k}.png`), encodePng(image));
      await writeNpy(join(dir, `latent-${k}.npy`), { shape: [value.latents[k]!.length], data: value.latents[k]! });
    }
    await writeFile(join(dir, 'samples.json'), JSON.stringify({ samples: value.images.length }));
  },
};
