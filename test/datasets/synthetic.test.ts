import { describe, expect, it } from 'vitest';
import type { PluginServices } from '../../core/services.js';
import { silentLogger } from '../../core/logging.js';
import { silentProgress } from '../../core/progress.js';
import { createLinalg } from '../../core/compute/linalg.js';
import { validateWithSchema } from '../../core/validation.js';
import { GRID } from '../../datasets/synthetic/features.js';
import { syntheticOptionsSchema, type SyntheticOptions } from '../../datasets/synthetic/schema.js';
import { SyntheticDataset } from '../../datasets/synthetic/synthetic.js';
import { CATEGORIES } from '../../datasets/synthetic/scenes.js';

const services = { log: silentLogger, progress: silentProgress, linalg: createLinalg() } as unknown as PluginServices;

function dataset(options: Partial<SyntheticOptions> = {}): SyntheticDataset {
  const o = validateWithSchema<SyntheticOptions>(syntheticOptionsSchema, { trainImages: 240, testImages: 60, voxels: 800, ...options }, 'test');
  return new SyntheticDataset(o, services);
}

function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('synthetic dataset', () => {
  it('is deterministic from its seed', async () => {
    const a = await dataset().load('subj01');
    const b = await dataset().load('subj01');
    const c = await dataset({ seed: 1 }).load('subj01');
    expect(b.train.fmri.data).toEqual(a.train.fmri.data.map((v) => v)); // NaN-aware equality
    expect(Array.from(c.train.fmri.data.subarray(0, 50))).not.toEqual(Array.from(a.train.fmri.data.subarray(0, 50)));
    expect(await b.test.stimuli.images()).toEqual(await a.test.stimuli.images());
  });

  it('has the shapes, shared test set, repeats, dead voxels and ROIs it describes', async () => {
    const d = dataset();
    const info = await d.describe();
    expect(info.subjects).toEqual(['subj01', 'subj02', 'subj03']);
    const s1 = await d.load('subj01');
    const s2 = await d.load('subj02');
    const summary = info.summaries[0]!;
    expect(s1.train.fmri.rows).toBe(240);
    expect(s1.test.fmri.rows).toBe(60);
    expect(s1.train.fmri.cols).toBe(summary.voxels);
    expect(s2.train.fmri.cols).not.toBe(s1.train.fmri.cols);
    expect(s1.test.stimuli.ids).toEqual(s2.test.stimuli.ids);
    expect(s1.train.stimuli.ids[0]).not.toEqual(s2.train.stimuli.ids[0]);
    expect((await s1.test.stimuli.images()).data).toEqual((await s2.test.stimuli.images()).data);
    const repeats = Array.from(s1.train.repeats);
    expect(Math.min(...repeats)).toBe(1);
    expect(Math.max(...repeats)).toBe(3);
    expect(repeats.filter((k) => k === 3).length / repeats.length).toBeGreaterThan(0.6);
    // Dead voxels: NaN in every row, and only they.
    const V = s1.train.fmri.cols;
    const nanColumns = new Set<number>();
    s1.train.fmri.data.forEach((v, i) => {
      if (Number.isNaN(v)) nanColumns.add(i % V);
    });
    expect(nanColumns.size).toBeGreaterThanOrEqual(2);
    for (const v of nanColumns) for (let r = 0; r < s1.train.fmri.rows; r++) expect(s1.train.fmri.data[r * V + v]).toBeNaN();
    // ROIs are disjoint, cover every voxel, and match describe().
    const all = Object.values(s1.atlas).flatMap((ids) => Array.from(ids));
    expect(new Set(all).size).toBe(V);
    expect(all.length).toBe(V);
    for (const [roi, ids] of Object.entries(s1.atlas)) expect(ids.length).toBe(summary.rois[roi]);
    const images = await s1.train.stimuli.images();
    expect(images.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('writes captions that name the true category', async () => {
    const s = await dataset({ subjects: 1 }).load('subj01');
    const captions = await s.train.stimuli.captions!();
    expect(captions).toHaveLength(240);
    for (const c of captions) {
      expect(c).toHaveLength(3);
      const named = CATEGORIES.filter((cat) => c[0]!.includes(` ${cat} `));
      expect(named).toHaveLength(1);
      for (const phrasing of c) expect(phrasing).toContain(` ${named[0]} `);
    }
  });

  it('gives single-trial rows when repeats are not averaged', async () => {
    const averaged = await dataset({ subjects: 1 }).load('subj01');
    const trials = await dataset({ subjects: 1, averageRepeats: false }).load('subj01');
    const totalTrials = Array.from(averaged.train.repeats).reduce((a, b) => a + b, 0);
    expect(trials.train.fmri.rows).toBe(totalTrials);
    expect(trials.train.stimuli.ids.filter((id) => id === averaged.train.stimuli.ids[0]).length).toBe(averaged.train.repeats[0]);
    // The mean of an image's single trials is its averaged row.
    const V = averaged.train.fmri.cols;
    const k = averaged.train.repeats[0]!;
    for (let v = 0; v < 20; v++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += trials.train.fmri.data[t * V + v]!;
      if (!Number.isNaN(s)) expect(s / k).toBeCloseTo(averaged.train.fmri.data[v]!, 4);
    }
  });

  it('has retinotopic V1 voxels: responses follow the contrast at the receptive-field centre', async () => {
    const s = await dataset({ subjects: 1, noise: 0, trainImages: 400 }).load('subj01');
    const images = await s.train.stimuli.images();
    const size = images.height;
    // Local contrast energy (luminance gradient²) in a small window around a field position.
    const energyAt = (img: number, fx: number, fy: number) => {
      const cx = Math.round(fx * size);
      const cy = Math.round(fy * size);
      let e = 0;
      for (let y = Math.max(1, cy - 3); y < Math.min(size - 1, cy + 3); y++) {
        for (let x = Math.max(1, cx - 3); x < Math.min(size - 1, cx + 3); x++) {
          const lum = (xx: number, yy: number) => {
            const i = img * size * size * 3 + 3 * (yy * size + xx);
            return 0.299 * images.data[i]! + 0.587 * images.data[i + 1]! + 0.114 * images.data[i + 2]!;
          };
          e += (lum(x + 1, y) - lum(x - 1, y)) ** 2 + (lum(x, y + 1) - lum(x, y - 1)) ** 2;
        }
      }
      return e;
    };
    const { buildCortex } = await import('../../datasets/synthetic/cortex.js');
    const cortex = buildCortex(0, 0, 800);
    const V = s.train.fmri.cols;
    let nearBetter = 0;
    const v1 = Array.from(s.atlas.V1!).filter((v) => !Number.isNaN(s.train.fmri.data[v]!)).slice(0, 40);
    for (const v of v1) {
      const x0 = cortex.rfCentre[2 * v]!;
      const y0 = cortex.rfCentre[2 * v + 1]!;
      const response = Array.from({ length: s.train.fmri.rows }, (_, i) => s.train.fmri.data[i * V + v]!);
      const near = Array.from({ length: s.train.fmri.rows }, (_, i) => energyAt(i, x0, y0));
      const far = Array.from({ length: s.train.fmri.rows }, (_, i) => energyAt(i, 1 - x0, 1 - y0));
      if (Math.abs(corr(response, near)) > Math.abs(corr(response, far))) nearBetter++;
    }
    expect(GRID).toBe(16);
    expect(nearBetter / v1.length).toBeGreaterThan(0.8);
  });

  it('has category-selective voxels', async () => {
    const s = await dataset({ subjects: 1, trainImages: 400 }).load('subj01');
    const captions = await s.train.stimuli.captions!();
    const category = captions.map((c) => CATEGORIES.find((cat) => c[0]!.includes(` ${cat} `))!);
    const V = s.train.fmri.cols;
    for (const cat of CATEGORIES) {
      const voxels = Array.from(s.atlas[`cat-${cat}`]!).filter((v) => !Number.isNaN(s.train.fmri.data[v]!));
      let inside = 0;
      let outside = 0;
      let nIn = 0;
      let nOut = 0;
      for (let i = 0; i < s.train.fmri.rows; i++) {
        const mean = voxels.reduce((a, v) => a + s.train.fmri.data[i * V + v]!, 0) / voxels.length;
        if (category[i] === cat) {
          inside += mean;
          nIn++;
        } else {
          outside += mean;
          nOut++;
        }
      }
      expect(inside / nIn - outside / nOut).toBeGreaterThan(0.2);
    }
  });

  it('reports a noise ceiling that matches the variance the signal explains in the averaged data', async () => {
    const d = dataset({ subjects: 1, trainImages: 1500, testImages: 10, voxels: 300 });
    const noisy = await d.load('subj01');
    const clean = await dataset({ subjects: 1, trainImages: 1500, testImages: 10, voxels: 300, noise: 0 }).load('subj01');
    const V = noisy.train.fmri.cols;
    const n = noisy.train.fmri.rows;
    let checked = 0;
    let sumDiff = 0;
    for (let v = 0; v < V; v++) {
      if (Number.isNaN(noisy.train.fmri.data[v]!)) {
        expect(noisy.noiseCeiling![v]).toBeNaN();
        continue;
      }
      const a = Array.from({ length: n }, (_, i) => noisy.train.fmri.data[i * V + v]!);
      const b = Array.from({ length: n }, (_, i) => clean.train.fmri.data[i * V + v]!);
      const r2 = corr(a, b) ** 2;
      sumDiff += r2 - noisy.noiseCeiling![v]!;
      expect(Math.abs(r2 - noisy.noiseCeiling![v]!)).toBeLessThan(0.12);
      checked++;
    }
    expect(checked).toBeGreaterThan(250);
    expect(Math.abs(sumDiff / checked)).toBeLessThan(0.02);
  });

  it('refuses an unknown subject, listing the valid ones', async () => {
    expect(() => dataset().load('subj09')).toThrow(/no subject 'subj09' \(this simulation has subj01, subj02, subj03\)/);
  });
});
