import { describe, expect, it } from 'vitest';
import type { Dataset, PluginRegistrar } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { validateWithSchema } from '../../core/validation.js';
import { manifest, register } from '../../datasets/synthetic/index.js';
import { buildCortex, respond, SCALES, type Voxel } from '../../datasets/synthetic/cortex.js';
import { SyntheticDataset } from '../../datasets/synthetic/experiment.js';
import { CONTRAST, FEATURE_COUNT, LUMINANCE, gridAt } from '../../datasets/synthetic/features.js';
import { CATEGORIES, type Scene } from '../../datasets/synthetic/scenes.js';
import { syntheticDefaults, syntheticOptionsSchema, type SyntheticOptions } from '../../datasets/synthetic/schema.js';

const small: Partial<SyntheticOptions> = { trainImages: 200, testImages: 40, voxels: 600 };

function dataset(options: Partial<SyntheticOptions> = {}): SyntheticDataset {
  return new SyntheticDataset({ ...syntheticDefaults, ...small, ...options });
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

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const column = (data: Float32Array, rows: number, cols: number, v: number) =>
  Float64Array.from({ length: rows }, (_, i) => data[i * cols + v]!);

describe('synthetic dataset plugin', () => {
  it('declares its schema, whose defaults are the documented ones, and creates the dataset lazily', async () => {
    expect(manifest.name).toBe('neurodecode-synthetic');
    expect(manifest.provides).toEqual([expect.objectContaining({ kind: 'dataset', id: 'synthetic' })]);
    const filled = validateWithSchema<SyntheticOptions>(syntheticOptionsSchema, {}, 'synthetic');
    expect(filled).toEqual(syntheticDefaults);
    let created: Dataset | undefined;
    const registrar = {
      dataset: async (_id: string, factory: { create(o: unknown, s: unknown): Promise<Dataset> }) => {
        created = await factory.create({ ...filled, subjects: 2, voxels: 400 }, {});
      },
    } as unknown as PluginRegistrar;
    register(registrar);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const info = await created!.describe();
    expect(info.subjects).toEqual(['subj01', 'subj02']);
    expect(info.imageShape).toEqual([64, 64, 3]);
    expect(info.summaries.map((s) => [s.trainItems, s.testItems])).toEqual([[1000, 150], [1000, 150]]);
  });
});

describe('synthetic dataset', () => {
  it('is deterministic from its seed', async () => {
    const a = await dataset().load('subj01');
    const b = await dataset().load('subj01');
    const c = await dataset({ seed: 7 }).load('subj01');
    expect(bytes(b.train.fmri.data).equals(bytes(a.train.fmri.data))).toBe(true);
    expect(bytes(b.test.fmri.data).equals(bytes(a.test.fmri.data))).toBe(true);
    expect(bytes((await b.train.stimuli.images()).data).equals(bytes((await a.train.stimuli.images()).data))).toBe(true);
    expect(b.noiseCeiling).toEqual(a.noiseCeiling);
    expect(await b.test.stimuli.captions!()).toEqual(await a.test.stimuli.captions!());
    expect(bytes((await c.train.stimuli.images()).data).equals(bytes((await a.train.stimuli.images()).data))).toBe(false);
    expect(c.train.fmri.cols === a.train.fmri.cols && bytes(c.train.fmri.data).equals(bytes(a.train.fmri.data))).toBe(false);
  });

  it('has the counts, shared test set, repeats, dead voxels and ROIs it describes', async () => {
    const d = dataset();
    const info = await d.describe();
    expect(info.subjects).toEqual(['subj01', 'subj02', 'subj03']);
    expect(info.imageShape).toEqual([64, 64, 3]);
    const subjects = await Promise.all(info.subjects.map((s) => d.load(s)));
    expect(new Set(subjects.map((s) => s.train.fmri.cols)).size).toBe(3); // voxel counts differ
    subjects.forEach((s, i) => {
      const summary = info.summaries[i]!;
      const V = s.train.fmri.cols;
      expect([s.train.fmri.rows, s.test.fmri.rows, V]).toEqual([summary.trainItems, summary.testItems, summary.voxels]);
      expect([s.train.fmri.rows, s.test.fmri.rows]).toEqual([200, 40]);
      expect(V).toBeGreaterThanOrEqual(480);
      expect(V).toBeLessThanOrEqual(720);
      expect(s.test.stimuli.ids).toEqual(subjects[0]!.test.stimuli.ids);
      expect(s.test.stimuli.ids[0]).toBe('shared-0000');
      expect(s.train.stimuli.ids[0]).toBe(`${s.subject}-0000`);
      for (const repeats of [s.train.repeats, s.test.repeats]) {
        expect(repeats.every((n) => n >= 1 && n <= 3)).toBe(true);
      }
      const trainRepeats = Array.from(s.train.repeats);
      expect(trainRepeats.filter((n) => n === 3).length / trainRepeats.length).toBeGreaterThan(0.6);
      expect(trainRepeats.some((n) => n < 3)).toBe(true);

      // Dead voxels: NaN in every row of both splits, every other value finite; counted in the notes.
      const dead: number[] = [];
      for (let v = 0; v < V; v++) if (Number.isNaN(s.train.fmri.data[v]!)) dead.push(v);
      expect(dead.length).toBeGreaterThanOrEqual(1);
      const deadSet = new Set(dead);
      for (const split of [s.train, s.test]) {
        const wrong = split.fmri.data.findIndex((x, k) => Number.isNaN(x) !== deadSet.has(k % V));
        expect(wrong).toBe(-1);
      }
      expect(info.notes.join('\n')).toContain(`${s.subject}: ${dead.length}`);
      for (const v of dead) expect(s.noiseCeiling![v]).toBe(0);

      // ROIs: disjoint, within range, covering every voxel, counts as described.
      const all = Object.values(s.atlas).flatMap((ids) => Array.from(ids));
      expect(all.length).toBe(V);
      expect(new Set(all).size).toBe(V);
      expect(Math.min(...all)).toBe(0);
      expect(Math.max(...all)).toBe(V - 1);
      for (const [roi, ids] of Object.entries(s.atlas)) expect(ids.length).toBe(summary.rois[roi]);
      expect(Object.keys(s.atlas)).toEqual(['V1', 'V2', 'V3', 'hV4', 'LOC', ...CATEGORIES.map((c) => `category-${c}`)]);
      expect(s.noiseCeiling!.every((x) => x >= 0 && x <= 1)).toBe(true);
    });
    const testImages = await subjects[1]!.test.stimuli.images();
    expect(bytes(testImages.data).equals(bytes((await subjects[0]!.test.stimuli.images()).data))).toBe(true);
    const images = await subjects[0]!.train.stimuli.images();
    expect([images.count, images.height, images.width, images.channels]).toEqual([200, 64, 64, 3]);
    expect(images.data.every((x) => x >= 0 && x <= 1)).toBe(true);
    // Not blank: images vary.
    expect(new Set(images.data.subarray(0, 64 * 64 * 3)).size).toBeGreaterThan(2);
  });

  it('renders at another image size', async () => {
    const s = await dataset({ subjects: 1, imageSize: 40, trainImages: 20, testImages: 5 }).load('subj01');
    const images = await s.test.stimuli.images();
    expect([images.count, images.height, images.width, images.data.length]).toEqual([5, 40, 40, 5 * 40 * 40 * 3]);
  });

  it('writes three captions per image that name the true category, colour and position', async () => {
    const d = dataset({ subjects: 1 });
    const truth = d.simulate('subj01').train.scenes;
    const captions = await (await d.load('subj01')).train.stimuli.captions!();
    expect(captions).toHaveLength(200);
    captions.forEach((phrasings, i) => {
      expect(phrasings).toHaveLength(3);
      const scene = truth[i]!;
      for (const caption of phrasings) {
        expect(caption).toContain(` ${scene.colour.name} ${scene.category} `);
        expect(CATEGORIES.filter((c) => caption.includes(` ${c} `))).toEqual([scene.category]);
      }
      if (scene.cx < 0.4) expect(phrasings[0]).toContain('left');
      if (scene.cx > 0.6) expect(phrasings[0]).toContain('right');
    });
    expect(captions[0]![0]).toMatch(/^an? (small|medium-sized|large) \w+ \w+ .* over an? .*background$/);
  });

  it('gives one row per trial when repeats are not averaged, whose means are the averaged rows', async () => {
    const averaged = await dataset({ subjects: 1 }).load('subj01');
    const trials = await dataset({ subjects: 1, averageRepeats: false }).load('subj01');
    const V = averaged.train.fmri.cols;
    expect(trials.train.fmri.rows).toBe(averaged.train.repeats.reduce((a, b) => a + b, 0));
    expect(trials.train.repeats.every((n) => n === 1)).toBe(true);
    let row = 0;
    for (let i = 0; i < 20; i++) {
      const n = averaged.train.repeats[i]!;
      for (let t = 0; t < n; t++) expect(trials.train.stimuli.ids[row + t]).toBe(averaged.train.stimuli.ids[i]);
      for (let v = 0; v < V; v += 7) {
        let sum = 0;
        for (let t = 0; t < n; t++) sum += trials.train.fmri.data[(row + t) * V + v]!;
        const expected = averaged.train.fmri.data[i * V + v]!;
        if (Number.isNaN(expected)) expect(sum).toBeNaN();
        else expect(sum / n).toBeCloseTo(expected, 4);
      }
      row += n;
    }
    expect((await trials.train.stimuli.images()).count).toBe(trials.train.fmri.rows);
  });

  it('computes the retinotopic response in closed form: rectified drive, squared, divisively normalised', () => {
    const cortex = buildCortex({ ...syntheticDefaults, voxels: 200 }, 0);
    const v1 = cortex.atlas.V1![0]!;
    const voxel: Voxel = cortex.voxels[v1]!;
    const plane = gridAt(SCALES[voxel.scale]!.level) ** 2;
    const pooled = SCALES.map((s) => new Float32Array(FEATURE_COUNT * gridAt(s.level) ** 2));
    const maps = pooled[voxel.scale]!;
    const set = (feature: number, value: number) => (maps[feature * plane + voxel.cell] = value);
    [0.2, 0.1, 0.05, 0.4].forEach((e, o) => set(o, e));
    set(CONTRAST, 0.3);
    set(LUMINANCE, 0.25);
    set(voxel.colourChannel, 0.5);
    const w = voxel.orientation;
    const energy = 0.2 * w[0]! + 0.1 * w[1]! + 0.05 * w[2]! + 0.4 * w[3]!;
    const drive =
      energy + Math.max(0, 0.5 * voxel.colourWeight) + Math.max(0, 0.25 * voxel.luminanceWeight);
    const s = voxel.semiSaturation;
    const out = new Float32Array(cortex.voxels.length);
    const scene: Scene = {
      category: 'disc',
      cx: 0.5,
      cy: 0.5,
      radius: 0.1,
      rotation: 0,
      colour: { name: 'red', rgb: [1, 0, 0] },
      stripes: 2,
      background: { kind: 'solid', colour: { name: 'grey', rgb: [0.5, 0.5, 0.5] } },
    };
    respond(cortex, pooled, scene, out);
    expect(out[v1]).toBeCloseTo((drive * drive) / (s * s + 0.09), 5);
    // Opposite-polarity colour and luminance are rectified away.
    set(voxel.colourChannel, -0.5);
    set(LUMINANCE, -0.25);
    respond(cortex, pooled, scene, out);
    const rectified = energy + Math.max(0, -0.5 * voxel.colourWeight) + Math.max(0, -0.25 * voxel.luminanceWeight);
    expect(out[v1]).toBeCloseTo((rectified * rectified) / (s * s + 0.09), 5);
  });

  it('has retinotopic V1 voxels: responses follow the contrast at the receptive-field centre, not far from it', async () => {
    const d = dataset({ subjects: 1, trainImages: 400, noise: 0 });
    const { cortex, train } = d.simulate('subj01');
    const images = await (await d.load('subj01')).train.stimuli.images();
    const size = images.height;
    const lum = (img: number, x: number, y: number) => {
      const i = img * size * size * 3 + 3 * (y * size + x);
      return 0.299 * images.data[i]! + 0.587 * images.data[i + 1]! + 0.114 * images.data[i + 2]!;
    };
    // Root-mean-square luminance gradient in a 5×5 window around a field position (independent of the features code).
    const contrastAt = (img: number, fx: number, fy: number) => {
      const cx = Math.round(fx * size);
      const cy = Math.round(fy * size);
      let e = 0;
      for (let y = Math.max(1, cy - 2); y <= Math.min(size - 2, cy + 2); y++) {
        for (let x = Math.max(1, cx - 2); x <= Math.min(size - 2, cx + 2); x++) {
          e += (lum(img, x + 1, y) - lum(img, x - 1, y)) ** 2 + (lum(img, x, y + 1) - lum(img, x, y - 1)) ** 2;
        }
      }
      return Math.sqrt(e);
    };
    const V = cortex.voxels.length;
    const v1 = Array.from(cortex.atlas.V1!).slice(0, 60);
    let nearWins = 0;
    let nearSum = 0;
    let farSum = 0;
    for (const v of v1) {
      const { x, y } = cortex.voxels[v]!;
      const response = column(train.signal, images.count, V, v);
      const near = Float64Array.from({ length: images.count }, (_, i) => contrastAt(i, x, y));
      const far = Float64Array.from({ length: images.count }, (_, i) => contrastAt(i, 1 - x, 1 - y));
      const rNear = corr(response, near);
      const rFar = corr(response, far);
      nearSum += rNear / v1.length;
      farSum += rFar / v1.length;
      if (rNear > rFar) nearWins++;
    }
    console.log(`retinotopy: near wins ${nearWins}/${v1.length}, mean r near ${nearSum.toFixed(3)}, far ${farSum.toFixed(3)}`);
    expect(nearWins / v1.length).toBeGreaterThan(0.85);
    expect(nearSum).toBeGreaterThan(0.3);
    expect(nearSum - farSum).toBeGreaterThan(0.25);
    // Receptive fields grow from V1 to hV4.
    const meanSigma = (roi: string) => Array.from(cortex.atlas[roi]!).reduce((a, v) => a + cortex.voxels[v]!.sigma, 0) / cortex.atlas[roi]!.length;
    expect(meanSigma('V1')).toBeLessThan(meanSigma('V2'));
    expect(meanSigma('V2')).toBeLessThan(meanSigma('V3'));
    expect(meanSigma('V3')).toBeLessThan(meanSigma('hV4'));
  });

  it('has category-selective voxels that respond more to their category, in the noisy averaged data', async () => {
    const d = dataset({ subjects: 1, trainImages: 400 });
    const s = await d.load('subj01');
    const scenes = d.simulate('subj01').train.scenes;
    const V = s.train.fmri.cols;
    for (const category of CATEGORIES) {
      const voxels = Array.from(s.atlas[`category-${category}`]!).filter((v) => !Number.isNaN(s.train.fmri.data[v]!));
      let selective = 0;
      for (const v of voxels) {
        let inside = 0;
        let outside = 0;
        let nIn = 0;
        scenes.forEach((scene, i) => {
          const x = s.train.fmri.data[i * V + v]!;
          if (scene.category === category) {
            inside += x;
            nIn++;
          } else outside += x;
        });
        if (inside / nIn > outside / (scenes.length - nIn)) selective++;
      }
      console.log(`category ${category}: ${selective}/${voxels.length} voxels prefer it`);
      expect(selective / voxels.length).toBeGreaterThan(0.85);
    }
  });

  it('reports the noise ceiling that the simulated repeats give empirically', async () => {
    const options = { subjects: 1, trainImages: 1200, testImages: 40, voxels: 300, averageRepeats: false };
    const s = await dataset(options).load('subj01');
    const { rows, cols: V, data } = s.train.fmri;
    const ids = s.train.stimuli.ids;
    let diffSum = 0;
    let checked = 0;
    const reported: number[] = [];
    const empirical: number[] = [];
    for (let v = 0; v < V; v++) {
      if (Number.isNaN(data[v]!)) continue;
      // NSD: noise variance = mean within-image variance (ddof 1); signal variance = total variance − noise variance.
      let within = 0;
      let groups = 0;
      let total = 0;
      let totalSq = 0;
      for (let start = 0; start < rows; ) {
        let end = start;
        while (end < rows && ids[end] === ids[start]) end++;
        const n = end - start;
        let m = 0;
        for (let r = start; r < end; r++) m += data[r * V + v]! / n;
        if (n > 1) {
          let ss = 0;
          for (let r = start; r < end; r++) ss += (data[r * V + v]! - m) ** 2;
          within += ss / (n - 1);
          groups++;
        }
        for (let r = start; r < end; r++) {
          total += data[r * V + v]!;
          totalSq += data[r * V + v]! ** 2;
        }
        start = end;
      }
      const noiseVar = within / groups;
      const totalVar = totalSq / rows - (total / rows) ** 2;
      const signalVar = Math.max(0, totalVar - noiseVar);
      const nc = signalVar / (signalVar + noiseVar); // single-trial rows: k = 1
      reported.push(s.noiseCeiling![v]!);
      empirical.push(nc);
      diffSum += Math.abs(nc - s.noiseCeiling![v]!);
      checked++;
    }
    console.log(`noise ceiling: mean |empirical − reported| ${(diffSum / checked).toFixed(4)}, r ${corr(reported, empirical).toFixed(4)}`);
    expect(diffSum / checked).toBeLessThan(0.04);
    expect(corr(reported, empirical)).toBeGreaterThan(0.97);
    const sorted = [...reported].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThan(0.1); // a realistic range, not all noise …
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(0.6); // … and not noiseless

    // Averaged rows: the same ncsnr with k = mean(1/n) over the test rows (NSD's formula).
    const averaged = await dataset({ ...options, averageRepeats: true }).load('subj01');
    const k = averaged.test.repeats.reduce((a, n) => a + 1 / n, 0) / averaged.test.repeats.length;
    for (let v = 0; v < V; v += 11) {
      const single = s.noiseCeiling![v]!;
      if (single === 0) continue;
      const ncsnr2 = single / (1 - single);
      expect(averaged.noiseCeiling![v]).toBeCloseTo(ncsnr2 / (ncsnr2 + k), 5);
    }
  });

  it('refuses an unknown subject, listing the valid ones', async () => {
    const d = dataset();
    await expect(d.load('subj09')).rejects.toThrow(UserError);
    await expect(d.load('subj09')).rejects.toThrow(/subj09.*subj01, subj02, subj03/);
  });
});
