import { resizeImage } from './core/io/image.ts';
const w = 32, h = 32, c = 3;
const img = { width: w, height: h, channels: c, data: Uint8Array.from({ length: w * h * c }, (_, i) => (i * 37) % 256) };
for (let r = 0; r < 3; r++) {
  const t = performance.now();
  for (let k = 0; k < 100; k++) await resizeImage(img, 425, 425, 'pillow-default');
  console.log('100 resizes 32→425', (performance.now() - t).toFixed(0), 'ms');
}
