import { Flags } from '@oclif/core';
import Table from 'cli-table3';
import { ratioText } from '../../core/bench/reference.js';
import { BaseCommand } from '../base.js';

// Each section's module is imported when it runs: they load TensorFlow.js, ONNX Runtime and h5wasm, which a
// command's start (and every other command, oclif loading them all) should not pay for.

const SECTIONS = ['startup', 'matmul', 'tfjs', 'ridge', 'pca', 'nsd-session', 'gru-epoch', 'chebnet-epoch', 'metrics', 'sd-step', 'brain-diffuser-ridge'] as const;

export default class Bench extends BaseCommand<typeof Bench> {
  static override summary = 'Measure matrix-multiply GFLOP/s of every engine and ridge at NSD scale, with ratios';
  static override description =
    'startup: median wall time of --version, --help and plugins list (fresh processes) and the peak memory of the default run. ' +
    'pca: the pca generator fit on 1,000 64×64 images. matmul: the dense linear algebra engine (ONNX Runtime) on square, training-step and kernel shapes. ' +
    'tfjs: TensorFlow.js matMul on each installed backend. ridge: fit + predict at NSD subj01 scale ' +
    '(8,859 × 15,724 → 4,096 and 59,136 targets, 982 test rows) against scikit-learn\'s Ridge fit + predict on the same shapes. ' +
    'nsd-session: preparation of one synthetic full-size NSD session (1.05 GB HDF5, 15,724 voxels), throughput and peak memory. ' +
    'The full ridge section needs about 4 GB of memory and a few minutes; nsd-session needs 1.1 GB of free temporary disk. ' +
    'gru-epoch: one training epoch of the paper-size GRU mapper (8,859 × 15,724 → 13,344, batch 128) on the TensorFlow.js ' +
    'backend in use, against one epoch of the same network in PyTorch (about 3 GB of memory). ' +
    'The references (scikit-learn, PyTorch) run in the same bench when Python has them (--python); otherwise a ' +
    'figure recorded on a named date and machine is shown, labelled as such, at the full size only. ' +
    'chebnet-epoch: one training epoch of the ChebNet-GCN mapper at the paper\'s NSD size (8,859 rows, V1/V2/V3+hV4 = 10,631 voxels → 6,400, batch 64; about 4 GB: the Chebyshev terms of the first layer are prepared once). ' +
    'metrics: Brain-Diffuser\'s metrics (PixCorr, SSIM, AlexNet(2), AlexNet(5), InceptionV3, EffNet-B, SwAV) on --images pairs of 425 × 425 ' +
    'images, ours on the full-size networks each export.py builds with random weights, against the same evaluation in PyTorch ' +
    'in the same run (needs Python with torch, torchvision and onnx; CLIP is not part of it). ' +
    'sd-step: seconds per guided DDIM step of Takagi\'s img2img loop on the Stable Diffusion folder --sd-model (init images of --sd-size), ' +
    'and the share of the loop spent outside ONNX Runtime; skipped without --sd-model. ' +
    'brain-diffuser-ridge: Brain-Diffuser\'s whole regression stage at subj01 size (one X → 91,168 + 59,136 + 197,376 targets, ' +
    'fit + predict by the runner\'s column-block path: target blocks on disk, ridge fitColumns predicting the test rows block by block), ' +
    'peak memory, against scikit-learn as Brain-Diffuser runs it ' +
    '(about 6 GB of memory, 15 GB of temporary disk and a few minutes; run it alone with --only so that the peak is this section\'s).';
  static override examples = ['<%= config.bin %> bench', '<%= config.bin %> bench --only matmul --only tfjs', '<%= config.bin %> bench --quick --json'];
  static override flags = {
    only: Flags.string({ description: 'sections to run; repeatable', options: [...SECTIONS], multiple: true }),
    quick: Flags.boolean({ description: 'small sizes (seconds, for a smoke test); the references run at the same small sizes', default: false }),
    images: Flags.integer({ description: 'metrics: image pairs scored (default 982, the NSD test set; --quick: 20)', min: 2 }),
    'sd-model': Flags.string({ description: 'sd-step: a diffusers/optimum Stable Diffusion ONNX folder' }),
    'sd-size': Flags.integer({ description: 'sd-step: side of the init image (SD: 512)', default: 512, min: 8 }),
    python: Flags.string({
      description: 'Python with scikit-learn / PyTorch to time the references in this run ("none": skip them); default: NEURODECODE_PYTHON, else python3, python, /usr/bin/python3',
    }),
  };

  async run(): Promise<unknown> {
    const sections = new Set(this.flags.only ?? SECTIONS);
    const quick = this.flags.quick;
    const result: Record<string, unknown> = {};
    if (sections.has('startup')) {
      this.info(quick ? 'measuring start-up and a small run…' : 'measuring start-up and the default run…');
      const r = await (await import('../../core/bench/startup.js')).benchStartup(quick ? { runs: 3, dataset: { subjects: 1, trainImages: 100, testImages: 20, voxels: 400 } } : {});
      result.startup = r;
      const t = new Table({ head: ['command', 'median s', 'runs s'], style: { head: [], border: [] } });
      t.push(['node -e 0 (Node alone)', r.nodeSeconds.toFixed(2), '']);
      for (const c of r.commands) t.push([`neurodecode ${c.command}`, c.medianSeconds.toFixed(2), c.runsSeconds.map((s) => s.toFixed(2)).join(' ')]);
      t.push([`${r.run.command}: peak RSS ${(r.run.peakRssBytes / 2 ** 20).toFixed(0)} MiB`, r.run.seconds.toFixed(1), '']);
      this.log(t.toString());
    }
    if (sections.has('matmul')) {
      this.info('measuring the linear algebra engine…');
      const cases = quick
        ? [{ name: 'square 512', m: 512, k: 512, n: 512 }, { name: 'square 128, plain JS', m: 128, k: 128, n: 128, engine: 'js' as const }]
        : undefined;
      const rows = await (await import('../../core/bench/matmul.js')).benchLinalg({ cases });
      result.matmul = rows;
      // The Gram case reports an effective rate (full-product flops for half the work): it is not a peak.
      const peak = Math.max(...rows.filter((r) => r.engine !== 'js' && !r.case.startsWith('gram')).map((r) => r.bestGflops));
      const t = new Table({ head: ['engine', 'case', 'GFLOP/s (median)', 'best', '% of peak'], style: { head: [], border: [] } });
      for (const r of rows) t.push([r.engine, r.case, r.gflops.toFixed(1), r.bestGflops.toFixed(1), `${((100 * r.gflops) / peak).toFixed(0)}%`]);
      this.log(t.toString());
      result.matmulPeak = peak;
    }
    if (sections.has('tfjs')) {
      this.info('measuring TensorFlow.js backends…');
      const tf = await (await import('../../core/bench/tfjs.js')).benchTfjsMatmul({
        
        budgetSeconds: quick ? 0.3 : 2,
        cases: quick ? () => [{ name: 'square 128', m: 128, k: 128, n: 128 }] : undefined,
      });
      result.tfjs = tf;
      const t = new Table({ head: ['engine', 'case', 'GFLOP/s (median)', 'best'], style: { head: [], border: [] } });
      for (const r of tf.measurements) t.push([r.engine, r.case, r.gflops.toFixed(2), r.bestGflops.toFixed(2)]);
      for (const s of tf.skipped) t.push([s.engine, `skipped: ${s.reason}`, '', '']);
      this.log(t.toString());
    }
    if (sections.has('ridge')) {
      this.info(quick ? 'ridge at a small size…' : 'ridge at NSD scale (several minutes)…');
      const bench = await (await import('../../plugins/ridge/bench.js')).benchRidge({
        ...(quick ? { trainRows: 600, voxels: 1200, testRows: 100, targets: [256, 2048] } : {}),
        python: this.flags.python,
      });
      result.ridge = bench;
      const t = new Table({
        head: ['targets', 'n × p', 'fit s', 'predict s', 'total s', 'GFLOP/s', 'sklearn fit + predict s', 'speed-up', '÷ op-count limit', 'max rel. diff vs float64'],
        style: { head: [], border: [] },
      });
      for (const r of bench.rows) {
        t.push([
          r.targets,
          `${r.trainRows} × ${r.voxels}`,
          r.fitSeconds.toFixed(1),
          r.predictSeconds.toFixed(1),
          r.totalSeconds.toFixed(1),
          r.gflops.toFixed(0),
          r.sklearn ? `${r.sklearn.seconds.toFixed(1)} (${r.sklearn.label})` : '—',
          r.speedupVsSklearn === undefined || !r.sklearn ? '—' : ratioText(r.speedupVsSklearn, r.sklearn),
          r.limits.map((l, i) => `${l.ratio.toFixed(2)}× of ${l.seconds.toFixed(1)} s (${i === 0 ? 'engine' : 'BLAS'})`).join('\n'),
          r.maxRelativeDifference.toExponential(1),
        ]);
      }
      this.log(t.toString());
      this.log("speed-up = scikit-learn Ridge's fit + predict ÷ ours, on the same shapes; ours includes z-scoring the voxels, theirs does not");
      this.log(
        `op-count limit = n²p (Gram) + n³/3 (Cholesky) + 2mnp + 2n²m + 2mnt (test side) at a float32 matmul peak measured now: ` +
          bench.peaks.map((pk) => `${pk.engine} ${pk.gflops.toFixed(0)} GFLOP/s`).join(', '),
      );
      const kinds = new Set(bench.rows.map((r) => r.sklearn?.kind));
      if (kinds.has('recorded')) this.log('vs recorded: a time from another day, not a same-run ratio (timings drift by tens of percent between days)');
      if (bench.referenceNote) this.log(`scikit-learn not run: ${bench.referenceNote}`);
    }
    if (sections.has('pca')) {
      this.info('pca generator fit…');
      const size = quick ? { count: 200, size: 32, components: 32 } : { count: 1000, size: 64, components: 256 };
      const r = await (await import('../../generators/pca/bench.js')).benchmarkPcaFit((await import('../../core/compute/linalg.js')).createLinalg(), size);
      result.pca = r;
      this.log(
        `pca fit: ${r.images} images × ${r.values} values → ${r.components} components in ${r.fitSeconds.toFixed(2)} s ` +
          `(${r.engine}; explained variance ${r.explainedVarianceRatio.toFixed(4)})`,
      );
    }
    if (sections.has('nsd-session')) {
      this.info(quick ? 'nsd: a small synthetic session…' : 'nsd: writing and preparing a synthetic full-size session (about a minute)…');
      const r = await (await import('../../datasets/nsd/bench.js')).benchNsdSession(quick ? { shape: [20, 16, 12], voxels: 900 } : {});
      result.nsdSession = r;
      if (r.mismatches > 0) this.warn(`nsd-session: ${r.mismatches} values read differ from those written`);
      this.log(
        `nsd session: ${r.voxels} voxels × ${r.trials} trials from ${(r.fileBytes / 1e9).toFixed(2)} GB in ${r.prepareSeconds.toFixed(1)} s ` +
          `(hyperslab reads ${r.readSeconds.toFixed(1)} s) = ${(r.voxelTrialsPerSecond / 1e6).toFixed(2)} M voxel·trials/s; ` +
          `peak memory ${(r.peakRssBytes / 2 ** 30).toFixed(2)} GiB; values checked: ${r.mismatches === 0 ? 'all equal' : `${r.mismatches} differ`}`,
      );
    }
    if (sections.has('gru-epoch')) {
      this.info(quick ? 'gru epoch at a small size…' : 'one epoch of the paper-size GRU mapper (a minute or more)…');
      const backend = this.flags.backend === 'auto' ? undefined : this.flags.backend;
      const r = await (await import('../../plugins/gru/bench.js')).benchGruEpoch({
        ...(quick ? { trainRows: 512, voxels: 2000, targets: 1000 } : {}),
        backend,
        python: this.flags.python,
      });
      result.gruEpoch = r;
      const t = new Table({ head: ['n × p → targets', 'batch', 'parameters', 'backend', 'input/output products', 's / epoch', 'PyTorch s', 'ratio'], style: { head: [], border: [] } });
      t.push([
        `${r.trainRows} × ${r.voxels} → ${r.targets}`,
        r.batchSize,
        r.parameters.toLocaleString('en-US'),
        r.backend,
        r.projectionEngine,
        r.epochSeconds.toFixed(1),
        r.pytorch ? `${r.pytorch.seconds.toFixed(1)} (${r.pytorch.label})` : '—',
        r.ratioToPytorch === undefined || !r.pytorch ? '—' : ratioText(r.ratioToPytorch, r.pytorch),
      ]);
      this.log(t.toString());
      this.log(`ratio = our seconds per epoch ÷ ${r.pytorch?.tool ?? 'PyTorch'}'s, same network and batch; goal ≤ 2`);
      if (r.pytorch?.kind === 'recorded') this.log('vs recorded: a time from another day, not a same-run ratio');
      if (r.referenceNote) this.log(`PyTorch not run: ${r.referenceNote}`);
    }
    if (sections.has('chebnet-epoch')) {
      this.info(quick ? 'chebnet-gcn epoch at a small size…' : 'one epoch of the paper-size ChebNet-GCN mapper (a few minutes)…');
      const backend = this.flags.backend === 'auto' ? undefined : this.flags.backend;
      const r = await (await import('../../plugins/chebnet-gcn/bench.js')).benchChebnetEpoch({ ...(quick ? { trainRows: 256, targets: 640 } : {}), backend });
      result.chebnetEpoch = r;
      const t = new Table({ head: ['n × p → targets', 'node width', 'batch', 'parameters', 'backend', 's / epoch', 'GFLOP', 'GFLOP/s'], style: { head: [], border: [] } });
      t.push([`${r.trainRows} × ${r.voxels} → ${r.targets}`, r.nodeWidth, r.batchSize, r.parameters.toLocaleString('en-US'), r.backend, r.epochSeconds.toFixed(1), r.gflop.toFixed(0), r.gflops.toFixed(1)]);
      this.log(t.toString());
    }
    if (sections.has('metrics')) {
      const images = this.flags.images ?? (quick ? 20 : 982);
      this.info(`feature-network metrics on ${images} image pairs, ours and PyTorch's (minutes per hundred images on a few cores)…`);
      const r = await (await import('../../metrics/common/bench.js')).benchMetrics({ images, python: this.flags.python });
      result.metrics = r;
      if (r.skipped) this.log(`metrics: skipped (${r.skipped})`);
      const t = new Table({ head: ['metric', 's', 'images/s', 'value', 'reference s', 'reference value', 'speed-up'], style: { head: [], border: [] } });
      for (const row of r.rows) {
        if (row.skipped) t.push([row.metric, `skipped: ${row.skipped}`, '', '', '', '', '']);
        else {
          t.push([
            row.metric,
            row.seconds.toFixed(1),
            row.imagesPerSecond.toFixed(1),
            row.value.toFixed(4),
            row.pytorch ? `${row.pytorch.seconds.toFixed(1)} (${row.pytorch.tool})` : '—',
            row.pytorchValue === undefined ? '—' : row.pytorchValue.toFixed(4),
            row.speedup === undefined || !row.pytorch ? '—' : ratioText(row.speedup, row.pytorch),
          ]);
        }
      }
      if (!r.skipped) this.log(t.toString());
      this.log(`speed-up = the reference's seconds ÷ ours on the same ${r.images} pairs of ${r.size} × ${r.size} images, ${r.threads} threads each; images/s counts both sets`);
    }
    if (sections.has('sd-step')) {
      const model = this.flags['sd-model'];
      if (!model) this.log('sd-step: skipped (give --sd-model <folder>: a diffusers/optimum SD export, or the tiny one the README names)');
      else {
        this.info(`stable-diffusion: guided DDIM steps on ${model}…`);
        const r = await (await import('../../generators/stable-diffusion/bench.js')).benchSdSteps({ model, size: this.flags['sd-size'] });
        result.sdStep = r;
        this.log(
          `sd-step: ${(1000 * r.secondsPerStep).toFixed(2)} ms per guided step (batch 2, latent 4×${r.size / 8}×${r.size / 8}, ${r.steps} steps, ` +
            `providers ${r.providers.join(', ')}); ${(100 * r.outsideOrtShare).toFixed(1)}% of it outside ONNX Runtime; ${r.graphs}`,
        );
      }
    }
    if (sections.has('brain-diffuser-ridge')) {
      this.info(quick ? 'brain-diffuser ridge stage at a small size…' : "Brain-Diffuser's regression stage at subj01 size (minutes)…");
      const { benchBrainDiffuserRidge } = await import('../../plugins/ridge/brain-diffuser-bench.js');
      const r = await benchBrainDiffuserRidge(
        quick
          ? { trainRows: 300, voxels: 600, testRows: 50, blockColumns: 256, spaces: [{ name: 'vdvae', targets: 600, alpha: 5e4 }, { name: 'clip-text', targets: 400, alpha: 1e5 }, { name: 'clip-vision', targets: 900, alpha: 6e4 }] }
          : {},
      );
      result.brainDiffuserRidge = r;
      const t = new Table({ head: ['space', 'targets', 'alpha', 'blocks', 'fit + predict s', 'max rel. diff vs float64'], style: { head: [], border: [] } });
      for (const s of r.spaces) t.push([s.name, s.targets.toLocaleString('en-US'), s.alpha, s.blocks, s.seconds.toFixed(1), s.maxRelativeDifference.toExponential(1)]);
      this.log(t.toString());
      const { asBrainDiffuserRuns: asRun, oneFitPerSpace: perSpace } = r.references;
      this.log(
        `stage: ${r.trainRows} × ${r.voxels} → ${r.spaces.reduce((a, s) => a + s.targets, 0).toLocaleString('en-US')} targets, ${r.testRows} test rows: ` +
          `${r.seconds.toFixed(1)} s (${(r.gflop / r.seconds).toFixed(0)} GFLOP/s), peak RSS ${(r.peakRssBytes / 2 ** 30).toFixed(2)} GiB; ` +
          (quick
            ? 'references are for the full size only'
            : `speed-up ${ratioText(asRun.seconds / r.seconds, asRun)} against ${asRun.tool} (${(asRun.seconds / 60).toFixed(0)} min, ${asRun.label}), ` +
              `${ratioText(perSpace.seconds / r.seconds, perSpace)} against ${perSpace.tool} (${(perSpace.seconds / 60).toFixed(0)} min)`),
      );
    }
    return result;
  }
}
