import { WINDOW_SIZE } from '../rvcArchitecture.ts';
import { int } from './graphBuilder.ts';
import { type Layers, transposed } from './synthLayers.ts';

/**
 * RVC's prior encoder `enc_p` (TextEncoder256/768 in models_onnx.py with attentions_onnx.Encoder):
 * phone features (+ coarse pitch embedding) → transformer with windowed relative attention →
 * mean and log-std of the prior. RVC's exporter traces pad/reshape tricks for the relative
 * positions; here the same sums are gathered by index (key offset j − i within ±window), which is
 * the same arithmetic on the same values and works for any length.
 */

export interface TextEncoderShape {
  hiddenChannels: number;
  filterChannels: number;
  heads: number;
  layers: number;
  kernelSize: number;
  interChannels: number;
}

export interface TextEncoderOutputs {
  m: string;
  logs: string;
  /** [1, 1, T] float: 1 inside phone_lengths. */
  xMask: string;
}

/** Index tensors of the relative-position window, computed once from T and shared by every layer. */
interface RelativeIndex {
  keyIndex: string;
  keyValid: string;
  valueIndex: string;
  valueValid: string;
}

async function relativeEmbedding(l: Layers, name: string, transpose: boolean): Promise<string> {
  const emb = await l.raw(name); // [1, 2w+1, kc], shared by all heads
  const [, rows, kc] = emb.shape as [number, number, number];
  if (!transpose) return l.g.floats(name, [rows, kc], emb.data);
  return l.g.floats(`${name}.T`, [kc, rows], transposed(emb.data, rows, kc));
}

async function attention(
  l: Layers,
  prefix: string,
  x: string,
  attnMask: string,
  index: RelativeIndex,
  shape: TextEncoderShape,
): Promise<string> {
  const g = l.g;
  const kc = shape.hiddenChannels / shape.heads;
  const heads = (t: string): string => l.transpose(g.op('Reshape', [t, g.vector([0, shape.heads, kc, -1])]), [0, 1, 3, 2]);
  const query = heads(await l.conv1d(x, `${prefix}.conv_q`));
  const key = heads(await l.conv1d(x, `${prefix}.conv_k`));
  const value = heads(await l.conv1d(x, `${prefix}.conv_v`));
  const scaled = g.op('Div', [query, g.scalar(Math.fround(Math.sqrt(kc)))]);
  let scores = g.op('MatMul', [scaled, l.transpose(key, [0, 1, 3, 2])]);
  const relLogits = g.op('MatMul', [scaled, await relativeEmbedding(l, `${prefix}.emb_rel_k`, true)]);
  const keyIndex = g.op('Expand', [index.keyIndex, g.op('Shape', [scores])]);
  const local = g.op('Where', [index.keyValid, g.op('GatherElements', [relLogits, keyIndex], { axis: int(3) }), g.scalar(0)]);
  scores = g.op('Add', [scores, local]);
  scores = g.op('Where', [g.op('Equal', [attnMask, g.scalar(0)]), g.scalar(-1e4), scores]);
  const weights = g.op('Softmax', [scores], { axis: int(-1) });
  let output = g.op('MatMul', [weights, value]);
  const windowShape = g.op('Concat', [l.slice(g.op('Shape', [weights]), 0, 0, 3), g.vector([2 * WINDOW_SIZE + 1])], { axis: int(0) });
  const gathered = g.op('GatherElements', [weights, g.op('Expand', [index.valueIndex, windowShape])], { axis: int(3) });
  const relWeights = g.op('Where', [index.valueValid, gathered, g.scalar(0)]);
  output = g.op('Add', [output, g.op('MatMul', [relWeights, await relativeEmbedding(l, `${prefix}.emb_rel_v`, false)])]);
  const merged = g.op('Reshape', [l.transpose(output, [0, 1, 3, 2]), g.vector([0, shape.hiddenChannels, -1])]);
  return l.conv1d(merged, `${prefix}.conv_o`);
}

async function feedForward(l: Layers, prefix: string, x: string, xMask: string, kernelSize: number): Promise<string> {
  const padding: [number, number] = [Math.floor((kernelSize - 1) / 2), Math.floor(kernelSize / 2)];
  let y = await l.conv1d(l.mul(x, xMask), `${prefix}.conv_1`, { padding });
  y = l.g.op('Relu', [y]);
  y = await l.conv1d(l.mul(y, xMask), `${prefix}.conv_2`, { padding });
  return l.mul(y, xMask);
}

export async function textEncoder(
  l: Layers,
  inputs: { phone: string; pitch: string | null; lengths: string },
  shape: TextEncoderShape,
): Promise<TextEncoderOutputs> {
  const g = l.g;
  return g.withinAsync('enc_p', async () => {
    let x = await l.linear(inputs.phone, 'enc_p.emb_phone');
    if (inputs.pitch) x = l.add(x, g.op('Gather', [(await l.param('enc_p.emb_pitch.weight')).value, inputs.pitch], { axis: int(0) }));
    x = l.mul(x, g.scalar(Math.fround(Math.sqrt(shape.hiddenChannels))));
    x = l.transpose(l.leakyRelu(x, 0.1), [0, 2, 1]); // [1, h, T]
    const lengthScalar = g.op('Gather', [g.op('Shape', [x]), g.scalarInt(2)], { axis: int(0) });
    const positions = g.op('Range', [g.scalarInt(0), lengthScalar, g.scalarInt(1)]);
    const inside = g.op('Less', [g.op('Unsqueeze', [positions, g.vector([0])]), g.op('Unsqueeze', [inputs.lengths, g.vector([1])])]);
    const xMask = g.op('Unsqueeze', [g.op('Cast', [inside], { to: int(1) }), g.vector([1])]);
    const attnMask = l.mul(g.op('Unsqueeze', [xMask, g.vector([2])]), g.op('Unsqueeze', [xMask, g.vector([3])]));
    const index = relativeIndex(l, lengthScalar);
    x = l.mul(l.mul(x, xMask), xMask);
    for (let i = 0; i < shape.layers; i++) {
      const y = await attention(l, `enc_p.encoder.attn_layers.${i}`, x, attnMask, index, shape);
      x = await l.layerNormChannels(l.add(x, y), `enc_p.encoder.norm_layers_1.${i}`);
      const f = await feedForward(l, `enc_p.encoder.ffn_layers.${i}`, x, xMask, shape.kernelSize);
      x = await l.layerNormChannels(l.add(x, f), `enc_p.encoder.norm_layers_2.${i}`);
    }
    x = l.mul(x, xMask);
    const stats = l.mul(await l.conv1d(x, 'enc_p.proj'), xMask);
    return { m: l.slice(stats, 1, 0, shape.interChannels), logs: l.slice(stats, 1, shape.interChannels, 2 * shape.interChannels), xMask };
  });
}

function relativeIndex(l: Layers, lengthScalar: string): RelativeIndex {
  const g = l.g;
  const positions = g.op('Range', [g.scalarInt(0), lengthScalar, g.scalarInt(1)]);
  const rows = g.op('Unsqueeze', [positions, g.vector([1])]);
  const cols = g.op('Unsqueeze', [positions, g.vector([0])]);
  const offset = g.op('Sub', [cols, rows]); // [T, T]: key j − query i
  const span = g.vector([WINDOW_SIZE]);
  const keyValid = g.op('LessOrEqual', [g.op('Abs', [offset]), span]);
  const keyIndex = g.op('Min', [g.op('Max', [g.op('Add', [offset, span]), g.vector([0])]), g.vector([2 * WINDOW_SIZE])]);
  const window = g.int64s(
    'relative_offsets',
    [1, 2 * WINDOW_SIZE + 1],
    Array.from({ length: 2 * WINDOW_SIZE + 1 }, (_, k) => k - WINDOW_SIZE),
  );
  const keyPosition = g.op('Add', [rows, window]); // [T, 2w+1]: query i + offset
  const lastIndex = g.op('Sub', [g.op('Unsqueeze', [lengthScalar, g.vector([0])]), g.vector([1])]);
  const valueValid = g.op('And', [g.op('GreaterOrEqual', [keyPosition, g.vector([0])]), g.op('LessOrEqual', [keyPosition, lastIndex])]);
  const valueIndex = g.op('Min', [g.op('Max', [keyPosition, g.vector([0])]), lastIndex]);
  return { keyIndex, keyValid, valueIndex, valueValid };
}
