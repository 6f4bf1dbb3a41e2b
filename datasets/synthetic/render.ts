/**
 * Draws a scene into an HWC float32 image with values in [0, 1]. Shapes are drawn from (approximate) signed
 * distances in pixels, so edges are anti-aliased over about one pixel at every image size.
 */
import type { Background, Category, Scene } from './scenes.js';

/** Renders `scene` into `out` (size × size × 3) starting at `offset`. */
export function renderScene(scene: Scene, size: number, out: Float32Array, offset = 0): void {
  drawBackground(scene.background, size, out, offset);
  const cos = Math.cos(scene.rotation);
  const sin = Math.sin(scene.rotation);
  const [or, og, ob] = scene.colour.rgb;
  const pixelsPerRadius = scene.radius * size;
  // Every shape lies within 1.2 radii of its centre: only that box (plus a pixel) is drawn.
  const reach = 1.2 * scene.radius + 1 / size;
  const x0 = Math.max(0, Math.floor((scene.cx - reach) * size));
  const x1 = Math.min(size - 1, Math.ceil((scene.cx + reach) * size));
  const y0 = Math.max(0, Math.floor((scene.cy - reach) * size));
  const y1 = Math.min(size - 1, Math.ceil((scene.cy + reach) * size));
  for (let y = y0; y <= y1; y++) {
    const dy = ((y + 0.5) / size - scene.cy) / scene.radius;
    for (let x = x0; x <= x1; x++) {
      // Object frame: centred, rotated, in units of the radius.
      const dx = ((x + 0.5) / size - scene.cx) / scene.radius;
      const u = cos * dx + sin * dy;
      const v = -sin * dx + cos * dy;
      const alpha = clamp01(0.5 - signedDistance(scene.category, u, v) * pixelsPerRadius);
      if (alpha === 0) continue;
      let shade = 1;
      if (scene.category === 'grating') shade = 0.3 + 0.7 * (0.5 + 0.5 * Math.sin(2 * Math.PI * scene.stripes * u));
      const i = offset + 3 * (y * size + x);
      out[i] = clamp01(out[i]! + alpha * (or * shade - out[i]!));
      out[i + 1] = clamp01(out[i + 1]! + alpha * (og * shade - out[i + 1]!));
      out[i + 2] = clamp01(out[i + 2]! + alpha * (ob * shade - out[i + 2]!));
    }
  }
}

/** Distance to the shape's edge in radius units: negative inside. The star's is approximate (radial). */
function signedDistance(category: Category, u: number, v: number): number {
  switch (category) {
    case 'disc':
      return Math.sqrt(u * u + v * v) - 1;
    case 'square':
    case 'grating':
      return box(u, v, 0.85, 0.85);
    case 'triangle':
      return equilateralTriangle(u, v, 0.95);
    case 'cross':
      return Math.min(box(u, v, 1, 0.3), box(u, v, 0.3, 1));
    case 'star': {
      const arm = (2 * Math.PI) / 5;
      const phase = (((Math.atan2(v, u) % arm) + arm) % arm) / arm;
      const towardsTip = 1 - 2 * Math.abs(phase - 0.5);
      return (Math.sqrt(u * u + v * v) - (0.45 + 0.6 * towardsTip)) * 0.8;
    }
  }
}

function box(u: number, v: number, halfWidth: number, halfHeight: number): number {
  const qx = Math.abs(u) - halfWidth;
  const qy = Math.abs(v) - halfHeight;
  const ox = Math.max(qx, 0);
  const oy = Math.max(qy, 0);
  return Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(qx, qy), 0);
}

/** Exact distance to an equilateral triangle of half-side `r` centred on its centroid (Inigo Quilez's formula). */
function equilateralTriangle(u: number, v: number, r: number): number {
  const k = Math.sqrt(3);
  let px = Math.abs(u) - r;
  let py = -v + r / k;
  if (px + k * py > 0) {
    const nx = (px - k * py) / 2;
    py = (-k * px - py) / 2;
    px = nx;
  }
  px -= Math.min(Math.max(px, -2 * r), 0);
  return -Math.sqrt(px * px + py * py) * Math.sign(py);
}

function drawBackground(background: Background, size: number, out: Float32Array, offset: number): void {
  const [r, g, b] = background.colour.rgb;
  const [r2, g2, b2] = background.kind === 'gradient' ? background.to.rgb : [r, g, b];
  const ax = background.kind === 'gradient' ? Math.cos(background.angle) / 0.8 : 0;
  const ay = background.kind === 'gradient' ? Math.sin(background.angle) / 0.8 : 0;
  for (let y = 0; y < size; y++) {
    const fy = (y + 0.5) / size;
    for (let x = 0; x < size; x++) {
      const fx = (x + 0.5) / size;
      const i = offset + 3 * (y * size + x);
      if (background.kind === 'solid') {
        out[i] = r;
        out[i + 1] = g;
        out[i + 2] = b;
      } else if (background.kind === 'gradient') {
        const t = clamp01(0.5 + (fx - 0.5) * ax + (fy - 0.5) * ay);
        out[i] = r + t * (r2 - r);
        out[i + 1] = g + t * (g2 - g);
        out[i + 2] = b + t * (b2 - b);
      } else {
        const gain = 0.45 + 0.75 * smoothNoise(background.grid, background.gridSize, fx, fy);
        out[i] = clamp01(r * gain + 0.08 * (gain - 0.8));
        out[i + 1] = clamp01(g * gain + 0.08 * (gain - 0.8));
        out[i + 2] = clamp01(b * gain + 0.08 * (gain - 0.8));
      }
    }
  }
}

/** The coarse grid upsampled with smoothstep-weighted bilinear interpolation (value noise). */
function smoothNoise(grid: Float32Array, n: number, fx: number, fy: number): number {
  const gx = fx * (n - 1);
  const gy = fy * (n - 1);
  const x0 = Math.min(n - 2, Math.floor(gx));
  const y0 = Math.min(n - 2, Math.floor(gy));
  const tx = smoothstep(gx - x0);
  const ty = smoothstep(gy - y0);
  const i = y0 * n + x0;
  const top = grid[i]! + tx * (grid[i + 1]! - grid[i]!);
  const bottom = grid[i + n]! + tx * (grid[i + n + 1]! - grid[i + n]!);
  return top + ty * (bottom - top);
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
