// Throwaway (not committed): our metric on the parity images against ref.json. Args: dir metric modelFolder refKey [networkKind]
import { readFileSync } from 'node:fs';
import { createCore } from './core/core.ts';
import { decodeNpy } from './core/io/npy.ts';
import { silentLogger } from './core/logging.ts';
const [dir, metric, model, refKey] = process.argv.slice(2);
const load = (f: string) => { const a = decodeNpy(readFileSync(`${dir}/${f}`)); const [n, h, w, c] = a.shape as number[]; return { count: n!, height: h!, width: w!, channels: c!, data: Float32Array.from(a.data as Uint8Array, (v) => v / 255) }; };
const truth = load('truth.npy'), pred = load('pred.npy');
const ref = JSON.parse(readFileSync(`${dir}/${refKey}`, 'utf8'));
const core = await createCore({ cwd: dir!, cacheDir: null, plugins: [], verbose: false }, { logger: silentLogger });
const out: Record<string, unknown> = {};
for (const convention of ['brain-diffuser', 'mindeye']) {
  const want = Array.isArray(ref) ? (convention === 'brain-diffuser' ? ref : null) : ref[convention]?.[metric!];
  if (!want) continue;
  const { instance } = await core.registry.create('metric', metric!, { model, convention });
  const r = await instance.compute({ kind: 'image', pred, truth }, { seed: 0 });
  const per = Array.from(r.perItem);
  const mean = want.reduce((a: number, b: number) => a + b, 0) / want.length;
  const absDiff = Math.max(...per.map((v, i) => Math.abs(v - want[i])));
  out[convention] = { typescript: r.value, torch: mean, maxPerItemAbsDiff: absDiff, identicalPerItem: absDiff === 0 };
}
console.log(JSON.stringify(out, null, 1));
process.exit(0);
