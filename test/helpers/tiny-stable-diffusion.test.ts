/**
 * The tiny Stable Diffusion fixture: every graph writeTinyStableDiffusion places opens in ONNX Runtime with the SD
 * names, element types and dims, and the float32 graphs give what torch gave when make_tiny_sd.py recorded them.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { perTestScratch } from './core.js';
import { byteLevelAlphabet } from './clip-vocab.js';
import {
  SD14_SCHEDULER_CONFIG,
  tinySdInitImage,
  tinySdReference,
  writeTinyStableDiffusion,
  type GraphValue,
  type TinySdVariant,
  type TinyTensor,
} from './tiny-stable-diffusion.js';

const scratch = perTestScratch('tiny-sd-');
const ref = tinySdReference();

async function folder(variant: TinySdVariant = {}): Promise<string> {
  return writeTinyStableDiffusion(await scratch.dir(), variant);
}

async function open(dir: string, component: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(join(dir, component, 'model.onnx'), { intraOpNumThreads: 1 });
}

function metadata(values: readonly ort.InferenceSession.ValueMetadata[]): GraphValue[] {
  return values.map((v) => {
    if (!v.isTensor) throw new Error(`${v.name} is not a tensor`);
    return { name: v.name, type: v.type as GraphValue['type'], dims: [...v.shape] };
  });
}

const f32 = (t: TinyTensor) => new ort.Tensor('float32', t.data, t.shape);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** float32 → IEEE half bits, round to nearest even (no subnormal/overflow cases in these values beyond ±65504). */
function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    const rounded = (m >>> 13) + ((m & 0x1fff) > 0x1000 || ((m & 0x1fff) === 0x1000 && (m >>> 13) & 1) ? 1 : 0);
    return sign | rounded;
  }
  if (exp >= 31) return sign | 0x7c00;
  let h = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const f16 = (t: TinyTensor) => new ort.Tensor('float16', Uint16Array.from(t.data, toHalf), t.shape);

describe('writeTinyStableDiffusion: the folder', () => {
  it('writes the diffusers ONNX layout with SD v1.4 scheduler values and a CLIP tokenizer', async () => {
    const dir = await folder();
    for (const file of [
      'model_index.json',
      'scheduler/scheduler_config.json',
      'tokenizer/vocab.json',
      'tokenizer/merges.txt',
      'tokenizer/special_tokens_map.json',
      'tokenizer/tokenizer_config.json',
      'text_encoder/model.onnx',
      'unet/model.onnx',
      'unet/weights.pb',
      'vae_encoder/model.onnx',
      'vae_decoder/model.onnx',
    ]) {
      await access(join(dir, file));
    }
    const index = JSON.parse(await readFile(join(dir, 'model_index.json'), 'utf8'));
    expect(index._class_name).toBe('OnnxStableDiffusionPipeline');
    expect(index.unet).toEqual(['diffusers', 'OnnxRuntimeModel']);
    expect(index.vae_encoder).toEqual(['diffusers', 'OnnxRuntimeModel']);
    expect(JSON.parse(await readFile(join(dir, 'scheduler/scheduler_config.json'), 'utf8'))).toEqual(SD14_SCHEDULER_CONFIG);
    const vocab = JSON.parse(await readFile(join(dir, 'tokenizer/vocab.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(vocab)).toHaveLength(514);
    expect(vocab['<|startoftext|>']).toBe(49406);
    expect(vocab['<|endoftext|>']).toBe(49407);
    expect(vocab['!']).toBe(0);
    expect(vocab['a</w>']).toBe(256 + byteLevelAlphabet().indexOf('a'));
    expect(byteLevelAlphabet()[188]).toBe('Ā'); // byte 0 → U+0100, after the 188 printable bytes
    expect(await readFile(join(dir, 'tokenizer/merges.txt'), 'utf8')).toBe('#version: 0.2\n');
  });

  it('places optimum external data, leaves out omitted components, and drops the encoder for "none"', async () => {
    const optimum = await folder({ externalData: 'model.onnx_data' });
    await access(join(optimum, 'unet/model.onnx_data'));
    await expect(access(join(optimum, 'unet/weights.pb'))).rejects.toThrow();
    const unet = await open(optimum, 'unet');
    expect(unet.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);

    const partial = await folder({ omit: ['unet', 'tokenizer', 'scheduler'] });
    for (const gone of ['unet', 'tokenizer', 'scheduler']) await expect(access(join(partial, gone))).rejects.toThrow();
    expect(JSON.parse(await readFile(join(partial, 'model_index.json'), 'utf8')).unet).toBeDefined();

    const none = await folder({ vaeEncoder: 'none' });
    await expect(access(join(none, 'vae_encoder'))).rejects.toThrow();
    expect(JSON.parse(await readFile(join(none, 'model_index.json'), 'utf8')).vae_encoder).toBeUndefined();

    await expect(folder({ timestep: 'int64', externalData: 'weights.pb' })).rejects.toThrow(/float UNet only/);
    const custom = await folder({ tokenizerFiles: async (tok) => void (await import('node:fs/promises')).writeFile(join(tok, 'vocab.json'), '{"x":1}') });
    expect(await readFile(join(custom, 'tokenizer/vocab.json'), 'utf8')).toBe('{"x":1}');
  });
});

describe('the graphs in ONNX Runtime', () => {
  const variants: [string, TinySdVariant, string, string][] = [
    ['text_encoder int32', { ids: 'int32' }, 'text_encoder', 'text_encoder.int32.onnx'],
    ['text_encoder int64', { ids: 'int64' }, 'text_encoder', 'text_encoder.int64.onnx'],
    ['unet float (weights.pb)', {}, 'unet', 'unet.float.onnx'],
    ['unet float (model.onnx_data)', { externalData: 'model.onnx_data' }, 'unet', 'unet.float.optimum.onnx'],
    ['unet int64', { timestep: 'int64' }, 'unet', 'unet.int64.onnx'],
    ['unet scalar', { timestep: 'scalar' }, 'unet', 'unet.scalar.onnx'],
    ['unet fp16', { timestep: 'fp16' }, 'unet', 'unet.fp16.onnx'],
    ['unet wide', { wideUnet: true }, 'unet', 'unet.wide.onnx'],
    ['vae_encoder parameters', { vaeEncoder: 'parameters' }, 'vae_encoder', 'vae_encoder.parameters.onnx'],
    ['vae_encoder sample', { vaeEncoder: 'sample' }, 'vae_encoder', 'vae_encoder.sample.onnx'],
    ['vae_decoder', {}, 'vae_decoder', 'vae_decoder.onnx'],
  ];
  it.each(variants)('%s: session metadata = the signature the export recorded', async (_, variant, component, file) => {
    const session = await open(await folder(variant), component);
    const recorded = ref.signatures[file]!;
    expect(metadata(session.inputMetadata)).toEqual(recorded.inputs);
    expect(metadata(session.outputMetadata)).toEqual(recorded.outputs);
  });

  it('the SD names and types per variant', () => {
    const s = ref.signatures;
    const io = (file: string) => [...s[file]!.inputs, ...s[file]!.outputs].map((v) => `${v.name}:${v.type}`);
    expect(io('text_encoder.int32.onnx')).toEqual(['input_ids:int32', 'last_hidden_state:float32', 'pooler_output:float32']);
    expect(io('text_encoder.int64.onnx')).toEqual(['input_ids:int64', 'last_hidden_state:float32', 'pooler_output:float32']);
    expect(io('unet.float.onnx')).toEqual(['sample:float32', 'timestep:float32', 'encoder_hidden_states:float32', 'out_sample:float32']);
    expect(io('unet.int64.onnx')).toEqual(['sample:float32', 'timestep:int64', 'encoder_hidden_states:float32', 'out_sample:float32']);
    expect(io('unet.fp16.onnx')).toEqual(['sample:float16', 'timestep:float16', 'encoder_hidden_states:float16', 'out_sample:float16']);
    expect(s['unet.scalar.onnx']!.inputs[1]!.dims).toEqual([]);
    expect(s['unet.float.onnx']!.inputs[2]!.dims).toEqual(['batch', 'sequence', 8]);
    expect(s['unet.wide.onnx']!.inputs[2]!.dims).toEqual(['batch', 'sequence', 12]);
    expect(s['vae_encoder.parameters.onnx']!.outputs).toEqual([
      { name: 'latent_parameters', type: 'float32', dims: ['batch_size', 8, 'sample_height / 8', 'sample_width / 8'] },
    ]);
    expect(s['vae_encoder.sample.onnx']!.outputs[0]!.name).toBe('latent_sample');
    expect(s['vae_decoder.onnx']!.inputs[0]!.name).toBe('latent_sample');
    expect(s['vae_decoder.onnx']!.outputs[0]!.name).toBe('sample');
  });
});

describe('ONNX Runtime gives what torch gave', () => {
  const one = ref.oneShot;

  it.each(['int32', 'int64'] as const)('text encoder (%s ids): last_hidden_state, pooler_output ≤ 1e-5', async (ids) => {
    const session = await open(await folder({ ids }), 'text_encoder');
    const raw = one.textEncoder.input_ids;
    const input =
      ids === 'int32' ? new ort.Tensor('int32', raw.data, raw.shape) : new ort.Tensor('int64', BigInt64Array.from(raw.data, (v) => BigInt(v)), raw.shape);
    const out = await session.run({ input_ids: input });
    expect(out.last_hidden_state!.dims).toEqual([2, 77, 8]);
    expect(maxAbsDiff(out.last_hidden_state!.data as Float32Array, one.textEncoder.last_hidden_state.data)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(out.pooler_output!.data as Float32Array, one.textEncoder.pooler_output.data)).toBeLessThanOrEqual(1e-5);
    // row 0 is ids(""): its last_hidden_state is uc; the pooler takes the first EOS (position 1)
    expect(maxAbsDiff((out.last_hidden_state!.data as Float32Array).subarray(0, 77 * 8), ref.uc.data)).toBeLessThanOrEqual(1e-5);
  });

  it('float UNet (both external-data namings): out_sample ≤ 1e-5; timestep [1] broadcasts like [2B]', async () => {
    for (const externalData of ['weights.pb', 'model.onnx_data'] as const) {
      const session = await open(await folder({ externalData }), 'unet');
      const feeds = { sample: f32(one.unet.sample), encoder_hidden_states: f32(one.unet.encoder_hidden_states) };
      const out = await session.run({ ...feeds, timestep: f32(one.unet.timestep) });
      expect(out.out_sample!.dims).toEqual([2, 4, 8, 8]);
      expect(maxAbsDiff(out.out_sample!.data as Float32Array, one.unet.out_sample.data)).toBeLessThanOrEqual(1e-5);
      const both = await session.run({ ...feeds, timestep: new ort.Tensor('float32', Float32Array.from([801, 801]), [2]) });
      expect(Array.from(both.out_sample!.data as Float32Array)).toEqual(Array.from(out.out_sample!.data as Float32Array));
      for (const t of ['1', '781']) {
        const at = await session.run({ ...feeds, timestep: new ort.Tensor('float32', Float32Array.from([Number(t)]), [1]) });
        expect(maxAbsDiff(at.out_sample!.data as Float32Array, one.unet.outSampleAtTimestep[t]!.data)).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('int64 and scalar UNets = the float UNet; the fp16 UNet within 1e-2', async () => {
    const feeds = { sample: f32(one.unet.sample), encoder_hidden_states: f32(one.unet.encoder_hidden_states) };
    const int64 = await open(await folder({ timestep: 'int64' }), 'unet');
    const a = await int64.run({ ...feeds, timestep: new ort.Tensor('int64', BigInt64Array.from([801n]), [1]) });
    expect(maxAbsDiff(a.out_sample!.data as Float32Array, one.unet.out_sample.data)).toBeLessThanOrEqual(1e-5);
    const scalar = await open(await folder({ timestep: 'scalar' }), 'unet');
    const b = await scalar.run({ ...feeds, timestep: new ort.Tensor('float32', Float32Array.from([801]), []) });
    expect(maxAbsDiff(b.out_sample!.data as Float32Array, one.unet.out_sample.data)).toBeLessThanOrEqual(1e-5);
    const fp16 = await open(await folder({ timestep: 'fp16' }), 'unet');
    const c = await fp16.run({
      sample: f16(one.unet.sample),
      timestep: f16(one.unet.timestep),
      encoder_hidden_states: f16(one.unet.encoder_hidden_states),
    });
    expect(c.out_sample!.type).toBe('float16');
    const half = Array.from(c.out_sample!.data as Uint16Array, fromHalf);
    expect(maxAbsDiff(half, one.unet.out_sample.data)).toBeLessThanOrEqual(1e-2);
    expect(maxAbsDiff(half, one.unetFp16Emulated.out_sample.data)).toBeLessThanOrEqual(1e-2);
  });

  it('wide UNet runs on [2, 77, 12] text states', async () => {
    const session = await open(await folder({ wideUnet: true }), 'unet');
    const out = await session.run({
      sample: f32(one.unet.sample),
      timestep: new ort.Tensor('float32', Float32Array.from([801]), [1]),
      encoder_hidden_states: new ort.Tensor('float32', new Float32Array(2 * 77 * 12).fill(0.1), [2, 77, 12]),
    });
    expect(out.out_sample!.dims).toEqual([2, 4, 8, 8]);
  });

  it('VAE encoder (parameters; sample = the mean) on case a’s init image ≤ 1e-5', async () => {
    const init = tinySdInitImage(ref.cases.a.initU8);
    expect(init.shape).toEqual([1, 3, 64, 64]);
    const params = await open(await folder({ vaeEncoder: 'parameters' }), 'vae_encoder');
    const p = await params.run({ sample: f32(init) });
    expect(p.latent_parameters!.dims).toEqual([1, 8, 8, 8]);
    expect(maxAbsDiff(p.latent_parameters!.data as Float32Array, one.vaeEncoder.latent_parameters.data)).toBeLessThanOrEqual(1e-5);
    const sample = await open(await folder({ vaeEncoder: 'sample' }), 'vae_encoder');
    const s = await sample.run({ sample: f32(init) });
    expect(s.latent_sample!.dims).toEqual([1, 4, 8, 8]);
    expect(maxAbsDiff(s.latent_sample!.data as Float32Array, one.vaeEncoder.latent_parameters.data.subarray(0, 4 * 64))).toBeLessThanOrEqual(1e-5);
  });

  it('VAE decoder on z_pred / 0.18215 ≤ 1e-5, and on case a’s final latent → its final image', async () => {
    const session = await open(await folder(), 'vae_decoder');
    const out = await session.run({ latent_sample: f32(one.vaeDecoder.latent_sample) });
    expect(out.sample!.dims).toEqual([1, 3, 40, 40]);
    expect(maxAbsDiff(out.sample!.data as Float32Array, one.vaeDecoder.sample.data)).toBeLessThanOrEqual(1e-5);
    const final = ref.cases.a.finalLatent;
    const scaled = Float32Array.from(final.data, (v) => v / ref.constants.latentScale);
    const img = await session.run({ latent_sample: new ort.Tensor('float32', scaled, final.shape) });
    const mapped = Array.from(img.sample!.data as Float32Array, (v) => Math.min(1, Math.max(0, (v + 1) / 2)));
    expect(maxAbsDiff(mapped, ref.cases.a.finalImage!.data)).toBeLessThanOrEqual(1e-5);
  });
});

describe('tinySdReference', () => {
  it('parses every tensor to a typed array of its shape, and fills case a-diffusers-start from case a', () => {
    expect(ref.emptyIds.data[0]).toBe(49406);
    expect(ref.emptyIds.data[76]).toBe(49407);
    expect(ref.uc.shape).toEqual([1, 77, 8]);
    expect(ref.alphasCumprod).toHaveLength(1000);
    expect(ref.constants.noiseTimestep).toBe(801);
    expect(ref.constants.loopTimesteps).toHaveLength(40);
    expect(ref.constants.loopTimesteps[0]).toBe(781);
    expect(ref.cases.a.initU8.shape).toEqual([1, 64, 64, 3]);
    expect(ref.cases.a.initU8.data).toBeInstanceOf(Uint8Array);
    expect(ref.cases.a.finalImage!.data).toBeInstanceOf(Float64Array);
    expect(ref.cases.b.finalLatent.shape).toEqual([2, 4, 8, 8]);
    expect(ref.cases['a-diffusers-start'].noiseTimestep).toBe(781);
    expect(ref.cases['a-diffusers-start'].z0).toBe(ref.cases.a.z0);
    expect(ref.cases.a.steps.map((s) => s.step)).toEqual([1, 10, 20, 30, 40]);
  });
});
