import { describe, expect, it } from 'vitest';
import type { PluginModule } from '../../core/contracts.js';
import * as clip from '../../metrics/clip/index.js';
import * as mae from '../../metrics/mae/index.js';
import * as mse from '../../metrics/mse/index.js';
import * as pearson from '../../metrics/pearson/index.js';
import * as pixcorr from '../../metrics/pixcorr/index.js';
import * as retrieval from '../../metrics/retrieval/index.js';
import * as ssim from '../../metrics/ssim/index.js';
import * as twoWay from '../../metrics/two-way/index.js';

const modules: Record<string, PluginModule> = {
  clip,
  mae,
  mse,
  pearson,
  pixcorr,
  retrieval,
  ssim,
  'two-way': twoWay,
};

describe('metric plugin manifests', () => {
  it.each(Object.entries(modules))('%s: named after its folder, registers exactly the metrics it declares', (folder, module) => {
    expect(module.manifest.name).toBe(`neurodecode-metric-${folder}`);
    const registered: string[] = [];
    const refuse = () => {
      throw new Error('not a metric');
    };
    module.register({ metric: (id) => registered.push(id), dataset: refuse, mapper: refuse, generator: refuse, get generators(): never { return refuse(); } });
    const declared = module.manifest.provides.map((c) => c.id);
    expect(module.manifest.provides.map((c) => c.kind)).toEqual(declared.map(() => 'metric'));
    expect(registered.sort()).toEqual(declared.sort());
  });

  it('ssim and retrieval contribute their two named conventions', () => {
    expect(ssim.manifest.provides.map((c) => c.id)).toEqual(['ssim', 'ssim-columns']);
    expect(retrieval.manifest.provides.map((c) => c.id)).toEqual(['retrieval-forward', 'retrieval-backward']);
  });
});
