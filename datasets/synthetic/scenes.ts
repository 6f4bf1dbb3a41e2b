/**
 * What a stimulus shows: one object of a known category, colour, position, size and rotation over a background.
 * Scenes are sampled from a seeded stream; images and captions are both derived from the scene, so captions are
 * always true of their image.
 */
import type { Rng } from '../../core/rng.js';

export const CATEGORIES = ['disc', 'square', 'triangle', 'cross', 'star', 'grating'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface NamedColour {
  name: string;
  rgb: [number, number, number];
}

/** Object and background colours; a background never has the object's colour name. */
export const PALETTE: readonly NamedColour[] = [
  { name: 'red', rgb: [0.85, 0.1, 0.1] },
  { name: 'green', rgb: [0.1, 0.65, 0.2] },
  { name: 'blue', rgb: [0.15, 0.3, 0.9] },
  { name: 'yellow', rgb: [0.95, 0.85, 0.1] },
  { name: 'orange', rgb: [0.95, 0.5, 0.05] },
  { name: 'purple', rgb: [0.55, 0.15, 0.7] },
  { name: 'pink', rgb: [0.95, 0.5, 0.7] },
  { name: 'white', rgb: [0.95, 0.95, 0.95] },
  { name: 'black', rgb: [0.05, 0.05, 0.05] },
  { name: 'grey', rgb: [0.5, 0.5, 0.5] },
];

export type Background =
  | { kind: 'solid'; colour: NamedColour }
  | { kind: 'gradient'; colour: NamedColour; to: NamedColour; angle: number }
  /** Low-frequency noise: `grid` is a coarse (gridSize × gridSize) field of values in [0, 1], smoothly upsampled. */
  | { kind: 'texture'; colour: NamedColour; gridSize: number; grid: Float32Array };

export interface Scene {
  category: Category;
  /** Object centre in field units (0..1, x to the right, y downwards). */
  cx: number;
  cy: number;
  /** Object radius in field units. */
  radius: number;
  /** Rotation in radians. */
  rotation: number;
  colour: NamedColour;
  /** Stripe frequency (cycles per radius) of a grating; unused by other categories. */
  stripes: number;
  background: Background;
}

export const MIN_RADIUS = 0.08;
export const MAX_RADIUS = 0.26;
const TEXTURE_GRID = 5;

export function sampleScene(rng: Rng): Scene {
  const category = CATEGORIES[rng.int(CATEGORIES.length)]!;
  const radius = MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * rng.uniform();
  const cx = 0.2 + 0.6 * rng.uniform();
  const cy = 0.2 + 0.6 * rng.uniform();
  const rotation = 2 * Math.PI * rng.uniform();
  const colour = jitter(PALETTE[rng.int(PALETTE.length)]!, rng);
  const stripes = 1.5 + 1.5 * rng.uniform();
  const background = sampleBackground(rng, colour.name);
  return { category, cx, cy, radius, rotation, colour, stripes, background };
}

function sampleBackground(rng: Rng, avoid: string): Background {
  const others = PALETTE.filter((c) => c.name !== avoid);
  const pick = () => jitter(others[rng.int(others.length)]!, rng);
  const kind = rng.int(3);
  if (kind === 0) return { kind: 'solid', colour: pick() };
  if (kind === 1) {
    const colour = pick();
    let to = pick();
    while (to.name === colour.name) to = pick();
    return { kind: 'gradient', colour, to, angle: 2 * Math.PI * rng.uniform() };
  }
  const grid = new Float32Array(TEXTURE_GRID * TEXTURE_GRID);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.uniform();
  return { kind: 'texture', colour: pick(), gridSize: TEXTURE_GRID, grid };
}

/** Small colour variation so that two "red" objects are not identical. */
function jitter(colour: NamedColour, rng: Rng): NamedColour {
  const rgb = colour.rgb.map((v) => Math.min(1, Math.max(0, v + 0.1 * (rng.uniform() - 0.5)))) as [number, number, number];
  return { name: colour.name, rgb };
}

export function sizeWord(radius: number): 'small' | 'medium-sized' | 'large' {
  if (radius < 0.14) return 'small';
  return radius < 0.2 ? 'medium-sized' : 'large';
}

/** "on the left", "at the top right", "in the centre", … */
export function positionPhrase(cx: number, cy: number): string {
  const horizontal = cx < 0.4 ? 'left' : cx > 0.6 ? 'right' : '';
  const vertical = cy < 0.4 ? 'top' : cy > 0.6 ? 'bottom' : '';
  if (!horizontal && !vertical) return 'in the centre';
  if (!vertical) return `on the ${horizontal}`;
  return `at the ${vertical}${horizontal ? ` ${horizontal}` : ''}`;
}

function backgroundPhrase(background: Background): string {
  switch (background.kind) {
    case 'solid':
      return `a plain ${background.colour.name} background`;
    case 'gradient':
      return `${withArticle(background.colour.name)} to ${background.to.name} gradient background`;
    case 'texture':
      return `a textured ${background.colour.name} background`;
  }
}

function withArticle(phrase: string): string {
  return `${/^[aeiou]/.test(phrase) ? 'an' : 'a'} ${phrase}`;
}

/** Three phrasings of the same true description (COCO has five per image; three keep it small). */
export function captionsFor(scene: Scene): string[] {
  const size = sizeWord(scene.radius);
  const where = positionPhrase(scene.cx, scene.cy);
  const colour = scene.colour.name;
  const object = scene.category;
  const background = backgroundPhrase(scene.background);
  const capitalised = background.charAt(0).toUpperCase() + background.slice(1);
  return [
    `${withArticle(`${size} ${colour} ${object}`)} ${where} over ${background}`,
    `${withArticle(`${colour} ${object}`)} ${where}, shown against ${background}`,
    `${capitalised} with ${withArticle(`${size} ${colour} ${object}`)} ${where}`,
  ];
}
