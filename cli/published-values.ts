/**
 * The numbers the papers report for the published pipelines (cli/experiments/), each with where it is printed, so
 * that a preset run's table shows at once whether a reproduction holds (cli/published-table.ts). Values are copied
 * from the seed papers in ../shared/seeds as printed; a method's key is its pipeline's name in its preset file.
 *
 * Left out on purpose: Hou & Khoshnoo's "EfficientNet" column (seed 001 Table 4) is a correlation distance on
 * EfficientNetV2-S, not the EffNet-B1 of the `effnet-b` metric, so it has no column here; Mind Reader's FID and
 * n-way tables (seed 003 Table 1, A.4) are not legible in the seed's text.
 */

export interface PublishedValues {
  /** The pipeline's name in its preset file. */
  method: string;
  dataset: 'nsd' | 'things-fmri';
  /** A subject id, or `mean` of the subjects the source names. */
  subject: string;
  /** Where the numbers are printed. */
  source: string;
  /** Metric id as the run names it (`ssim-columns` is the table's SSIM) → value. */
  values: Record<string, number>;
}

const BD = 'Brain-Diffuser (Ozcelik & VanRullen 2023): ridge → VDVAE 31 layers → Versatile Diffusion';
const GRU15 = 'GRU two-stage, VDVAE 15 layers (13,344 latents)';
const GRU31 = 'GRU two-stage, VDVAE 31 layers (91,168 latents)';
const TAKAGI = 'Takagi & Nishimoto (CVPR 2023): ridge, early stream → z, ventral stream → c, Stable Diffusion img2img';
const MIND_READER = 'Mind Reader (Lin, Sprague & Singh 2022): cnn (mind-reader preset) → Lafite';
const HOU_GCN = 'Hou & Khoshnoo, chebnet-gcn → z';

/** The eight columns of Brain-Diffuser's table, in its order. */
const eight = (pixcorr: number, ssim: number, a2: number, a5: number, inception: number, clip: number, effnet: number, swav: number) => ({
  pixcorr,
  'ssim-columns': ssim,
  'alexnet-2': a2,
  'alexnet-5': a5,
  inception,
  clip,
  'effnet-b': effnet,
  swav,
});
// Seed 000 prints its tables SSIM first, then PixCorr: the calls below pass them in the paper's column order.
const seed000 = (ssim: number, pixcorr: number, ...rest: [number, number, number, number, number, number]) => eight(pixcorr, ssim, ...rest);

export const PUBLISHED: readonly PublishedValues[] = [
  { method: BD, dataset: 'nsd', subject: 'subj01', source: 'seed 000 (Veronese et al.) Table 4, "Ridge [21]", 31 layers', values: seed000(0.367, 0.305, 0.967, 0.974, 0.878, 0.925, 0.768, 0.415) },
  {
    method: BD,
    dataset: 'nsd',
    subject: 'mean',
    source: 'seed 000 Table 5, "Ridge [21]" (Brain-Diffuser\'s own table, subjects 1, 2, 5, 7)',
    values: seed000(0.356, 0.254, 0.942, 0.962, 0.872, 0.915, 0.775, 0.423),
  },
  { method: GRU15, dataset: 'nsd', subject: 'subj01', source: 'seed 000 Table 4, "Ours", 15 layers', values: seed000(0.37, 0.242, 0.904, 0.942, 0.868, 0.924, 0.779, 0.421) },
  { method: GRU31, dataset: 'nsd', subject: 'subj01', source: 'seed 000 Table 4, "Ours", 31 layers', values: seed000(0.374, 0.207, 0.88, 0.929, 0.89, 0.958, 0.768, 0.416) },
  { method: GRU15, dataset: 'nsd', subject: 'mean', source: 'seed 000 Table 5, "Ours", 15 layers (subjects 1, 2, 5, 7)', values: seed000(0.361, 0.202, 0.878, 0.931, 0.862, 0.914, 0.786, 0.434) },
  { method: GRU31, dataset: 'nsd', subject: 'mean', source: 'seed 000 Table 5, "Ours", 31 layers (subjects 1, 2, 5, 7)', values: seed000(0.36, 0.177, 0.864, 0.923, 0.869, 0.922, 0.785, 0.434) },
  {
    method: TAKAGI,
    dataset: 'nsd',
    subject: 'mean',
    source: 'seed 000 Table 5, "Takagi et al. [35]" (quoted; the table compares four-subject results)',
    values: { 'alexnet-2': 0.83, 'alexnet-5': 0.83, inception: 0.76, clip: 0.77 },
  },
  { method: TAKAGI, dataset: 'nsd', subject: 'subj01', source: 'seed 001 (Hou & Khoshnoo) Table 4, "Linear [2]" (their reproduction)', values: { pixcorr: 0.2659, 'ssim-columns': 0.2141, lpips: 0.7695 } },
  { method: TAKAGI, dataset: 'things-fmri', subject: 'sub-01', source: 'seed 001 Table 4, "Linear [2]" (their reproduction)', values: { pixcorr: 0.1293, 'ssim-columns': 0.2407, lpips: 0.8364 } },
  // Seed 001 §2.7: the reconstructions use the best z decoder on the test set, the GCN (Table 3).
  { method: HOU_GCN, dataset: 'nsd', subject: 'subj01', source: 'seed 001 Table 4, "Ours" (GCN → z, CNN → c)', values: { pixcorr: 0.3246, 'ssim-columns': 0.3528, lpips: 0.7329 } },
  { method: HOU_GCN, dataset: 'things-fmri', subject: 'sub-01', source: 'seed 001 Table 4, "Ours" (GCN → z, CNN → c)', values: { pixcorr: 0.2013, 'ssim-columns': 0.3993, lpips: 0.8148 } },
  { method: MIND_READER, dataset: 'nsd', subject: 'mean', source: 'seed 000 Table 5, "Lin et al. [14]" (quoted)', values: { inception: 0.782 } },
];

export function publishedFor(method: string): PublishedValues[] {
  return PUBLISHED.filter((p) => p.method === method);
}
