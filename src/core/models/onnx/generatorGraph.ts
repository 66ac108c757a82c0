import { float, int } from './graphBuilder.ts';
import { seededSourceNoise } from './sourceNoise.ts';
import type { Layers } from './synthLayers.ts';

/**
 * RVC's decoder `dec`: HiFi-GAN upsampling with multi-receptive-field residual blocks; for pitch
 * models the neural-source-filter variant (GeneratorNSF in models_onnx.py), whose harmonic source
 * is a sine at f0 built exactly as SineGen._f02sine builds it and fed into every upsampling stage.
 */

const LRELU_SLOPE = 0.1;
const SINE_AMP = 0.1;
const NOISE_STD = 0.003;

export interface GeneratorShape {
  resblock: '1' | '2';
  resblockKernelSizes: number[];
  resblockDilationSizes: number[][];
  upsampleRates: number[];
  upsampleInitialChannel: number;
  upsampleKernelSizes: number[];
  sampleRate: number;
}

export interface SourceOptions {
  /** pitchf, [1, T] Hz; null for a no-pitch model (plain HiFi-GAN). */
  f0: string | null;
  /** Where the NSF noise's seed comes from; null makes the noise exactly zero. */
  noiseSeedFrom: string | null;
}

/** SineGen + SourceModuleHnNSF (harmonic_num 0): the excitation [1, 1, T·hop]. */
function harmonicSource(
  l: Layers,
  f0: string,
  hop: number,
  sampleRate: number,
  noiseSeedFrom: string | null,
  linear: { w: string; b: string },
): string {
  const g = l.g;
  const f0Frames = g.op('Unsqueeze', [f0, g.vector([2])]); // [1, T, 1]
  const steps = g.floats(
    'dec.m_source.l_sin_gen.steps',
    [hop],
    Float32Array.from({ length: hop }, (_, i) => i + 1),
  );
  let rad = l.mul(g.op('Div', [f0Frames, g.scalar(sampleRate)]), steps); // [1, T, hop]: phase within each frame
  // Each frame starts where the previous one ended (mod 1, kept in ±0.5 as RVC does for precision).
  const lastStep = g.op('Slice', [rad, g.vector([0, hop - 1]), g.vector([-1, hop]), g.vector([1, 2])]);
  const wrapped = g.op('Sub', [g.op('Mod', [l.add(lastStep, g.scalar(0.5)), g.scalar(1)], { fmod: int(1) }), g.scalar(0.5)]);
  const carried = g.op('Mod', [g.op('CumSum', [wrapped, g.scalarInt(1)]), g.scalar(1)], { fmod: int(1) });
  rad = l.add(rad, g.op('Pad', [carried, g.vector([0, 1, 0, 0, 0, 0])]));
  rad = g.op('Reshape', [rad, g.vector([0, -1, 1])]); // [1, T·hop, 1]; the harmonic factor (1) and rand_ini[0] (0) change nothing
  const sine = l.mul(g.op('Sin', [l.mul(rad, g.scalar(Math.fround(2 * Math.PI)))]), g.scalar(SINE_AMP));
  const voicedFrames = g.op('Cast', [g.op('Greater', [f0Frames, g.scalar(0)])], { to: int(1) });
  const framesByHop = g.op('Concat', [l.slice(g.op('Shape', [f0Frames]), 0, 0, 2), g.vector([hop])], { axis: int(0) });
  const uv = g.op('Reshape', [g.op('Expand', [voicedFrames, framesByHop]), g.vector([0, -1, 1])]); // nearest upsampling by hop
  let excitation = l.mul(sine, uv);
  if (noiseSeedFrom) {
    const amplitude = l.add(l.mul(uv, g.scalar(NOISE_STD)), l.mul(g.op('Sub', [g.scalar(1), uv]), g.scalar(SINE_AMP / 3)));
    excitation = l.add(excitation, l.mul(amplitude, seededSourceNoise(l, excitation, noiseSeedFrom)));
  }
  const merged = g.op('Tanh', [l.add(l.mul(excitation, linear.w), linear.b)]);
  return l.transpose(merged, [0, 2, 1]);
}

async function resBlock(l: Layers, prefix: string, x: string, kind: '1' | '2', kernel: number, dilations: number[]): Promise<string> {
  const pad = (d: number): [number, number] => [(kernel * d - d) / 2, (kernel * d - d) / 2];
  let y = x;
  for (let j = 0; j < dilations.length; j++) {
    const d = dilations[j]!;
    let t = l.leakyRelu(y, LRELU_SLOPE);
    if (kind === '1') {
      t = await l.conv1d(t, `${prefix}.convs1.${j}`, { padding: pad(d), dilation: d });
      t = await l.conv1d(l.leakyRelu(t, LRELU_SLOPE), `${prefix}.convs2.${j}`, { padding: pad(1) });
    } else {
      t = await l.conv1d(t, `${prefix}.convs.${j}`, { padding: pad(d), dilation: d });
    }
    y = l.add(t, y);
  }
  return y;
}

async function sourceLinear(l: Layers): Promise<{ w: string; b: string }> {
  const w = await l.raw('dec.m_source.l_linear.weight');
  const b = await l.raw('dec.m_source.l_linear.bias');
  if (w.data.length !== 1) throw new Error(`dec.m_source.l_linear has ${w.data.length} weights; harmonic_num 0 needs 1`);
  return { w: l.g.scalar(w.data[0]!), b: l.g.scalar(b.data[0]!) };
}

export async function generator(l: Layers, z: string, speaker: string, shape: GeneratorShape, source: SourceOptions): Promise<string> {
  const g = l.g;
  return g.withinAsync('dec', async () => {
    const hop = shape.upsampleRates.reduce((a, b) => a * b, 1);
    const harmonic = source.f0 ? harmonicSource(l, source.f0, hop, shape.sampleRate, source.noiseSeedFrom, await sourceLinear(l)) : null;
    let x = l.add(await l.conv1d(z, 'dec.conv_pre', { padding: [3, 3] }), await l.conv1d(speaker, 'dec.cond'));
    const kernels = shape.resblockKernelSizes.length;
    for (let i = 0; i < shape.upsampleRates.length; i++) {
      const rate = shape.upsampleRates[i]!;
      x = await l.convTranspose1d(l.leakyRelu(x, LRELU_SLOPE), `dec.ups.${i}`, rate, (shape.upsampleKernelSizes[i]! - rate) / 2);
      if (harmonic) {
        const strideF0 = shape.upsampleRates.slice(i + 1).reduce((a, b) => a * b, 1);
        const options =
          i + 1 < shape.upsampleRates.length
            ? { stride: strideF0, padding: [Math.floor(strideF0 / 2), Math.floor(strideF0 / 2)] as [number, number] }
            : {};
        x = l.add(x, await l.conv1d(harmonic, `dec.noise_convs.${i}`, options));
      }
      let sum: string | null = null;
      for (let j = 0; j < kernels; j++) {
        const block = await resBlock(
          l,
          `dec.resblocks.${i * kernels + j}`,
          x,
          shape.resblock,
          shape.resblockKernelSizes[j]!,
          shape.resblockDilationSizes[j]!,
        );
        sum = sum ? l.add(sum, block) : block;
      }
      x = g.op('Div', [sum!, g.scalar(kernels)]);
    }
    x = g.op('LeakyRelu', [x], { alpha: float(0.01) }); // F.leaky_relu's default slope, not LRELU_SLOPE
    x = await l.conv1d(x, 'dec.conv_post', { padding: [3, 3], bias: false });
    return g.op('Tanh', [x]);
  });
}
