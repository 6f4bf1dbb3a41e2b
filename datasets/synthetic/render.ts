/**
 * Draws a scene into an HWC float32 image with values in [0, 1]. Shapes are drawn from (approximate) signed
 * distances in pixels, so edges are anti-aliased over about one pixel at every image size.
 */
import type { Background, Category, Scene } from './scenes.js';

/** Renders `scene` into `out` (size × size × 3) starting at `offset`. */
export function renderScene(scene: Scene, size: number, out: Float32Array, offset = 0): void {
  const cos = Math.cos(scene.rotation);
  const sin = Math.sin(scene.rotation);
  const [or, og, ob] = scene.colour.rgb;
  const pixelsPerRadius = scene.radius * size;
  const background: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    const fy = (y + 0.5) / size;
    for (let x = 0; x < size; x++) {
      const fx = (x + 0.5) / size;
      backgroundAt(scene.background, fx, fy, background);
      // Object frame: centred, rotated, in units of the radius.
      const dx = (fx - scene.cx) / scene.radius;
      const dy = (fy - scene.cy) / scene.radius;
      const u = cos * dx + sin * dy;
      const v = -sin * dx + cos * dy;
      const alpha = clamp01(0.5 - signedDistance(scene.category, u, v) * pixelsPerRadius);
      let shade = 1;
      if (scene.category === 'grating' && alpha > 0) shade = 0.3 + 0.7 * (0.5 + 0.5 * Math.sin(2 * Math.PI * scene.stripes * u));
      const i = offset + 3 * (y * size + x);
      out[i] = clamp01(background[0] + alpha * (or * shade - background[0]));
      out[i + 1] = clamp01(background[1] + alpha * (og * shade - background[1]));
      out[i + 2] = clamp01(background[2] + alpha * (ob * shade - background[2]));
    }
  }
}

/** Distance to the shape's edge in radius units: negative inside. The star's is approximate (radial). */
function signedDistance(category: Category, u: number, v: number): number {
  switch (category) {
    case 'disc':
      return Math.hypot(u, v) - 1;
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
      return (Math.hypot(u, v) - (0.45 + 0.6 * towardsTip)) * 0.8;
    }
  }
}

function box(u: number, v: number, halfWidth: number, halfHeight: number): number {
  const qx = Math.abs(u) - halfWidth;
  const qy = Math.abs(v) - halfHeight;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0);
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
  return -Math.hypot(px, py) * Math.sign(py);
}

function backgroundAt(background: Background, fx: number, fy: number, out: [number, number, number]): void {
  const [r, g, b] = background.colour.rgb;
  switch (background.kind) {
    case 'solid':
      out[0] = r;
      out[1] = g;
      out[2] = b;
      return;
    case 'gradient': {
      const t = clamp01(0.5 + ((fx - 0.5) * Math.cos(background.angle) + (fy - 0.5) * Math.sin(background.angle)) / 0.8);
      const [r2, g2, b2] = background.to.rgb;
      out[0] = r + t * (r2 - r);
      out[1] = g + t * (g2 - g);
      out[2] = b + t * (b2 - b);
      return;
    }
    case 'texture': {
      const gain = 0.45 + 0.75 * smoothNoise(background.grid, background.gridSize, fx, fy);
      out[0] = clamp01(r * gain + 0.08 * (gain - 0.8));
      out[1] = clamp01(g * gain + 0.08 * (gain - 0.8));
      out[2] = clamp01(b * gain + 0.08 * (gain - 0.8));
      return;
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
  const at = (x: number, y: number) => grid[y * n + x]!;
  const top = at(x0, y0) + tx * (at(x0 + 1, y0) - at(x0, y0));
  const bottom = at(x0, y0 + 1) + tx * (at(x0 + 1, y0 + 1) - at(x0, y0 + 1));
  return top + ty * (bottom - top);
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
