import type { FloatTensor } from '../rvcCheckpoint.ts';
import { float, type GraphBuilder, int, ints } from './graphBuilder.ts';

/**
 * torch.nn layers as ONNX nodes, with the parameters of one model. Each helper computes what the
 * torch layer computes, in the same order of operations, so the export agrees with RVC's PyTorch
 * modules to float32 rounding.
 */

/** Where weights come from: parameter names as in RVC's state dict, weight norm already folded. */
export interface WeightSource {
  tensor(name: string): Promise<FloatTensor>;
}

/** A row-major [rows, cols] matrix as row-major [cols, rows]. */
export function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

export class Layers {
  readonly g: GraphBuilder;
  private readonly weights: WeightSource;
  private readonly loaded = new Map<string, { value: string; shape: number[] }>();

  constructor(g: GraphBuilder, weights: WeightSource) {
    this.g = g;
    this.weights = weights;
  }

  /** The initializer for parameter `name` (added once), and its shape. */
  async param(name: string): Promise<{ value: string; shape: number[] }> {
    const known = this.loaded.get(name);
    if (known) return known;
    const tensor = await this.weights.tensor(name);
    const entry = { value: this.g.floats(name, tensor.shape, tensor.data), shape: tensor.shape };
    this.loaded.set(name, entry);
    return entry;
  }

  /** The parameter as data, for the few that are reshaped before use (attention embeddings, Linear). */
  async raw(name: string): Promise<FloatTensor> {
    return this.weights.tensor(name);
  }

  /** nn.Conv1d: weight [out, in, k]; torch's zero padding folded into the node's pads. */
  async conv1d(
    x: string,
    prefix: string,
    options: { padding?: [number, number]; dilation?: number; stride?: number; bias?: boolean } = {},
  ): Promise<string> {
    const weight = await this.param(`${prefix}.weight`);
    const inputs = [x, weight.value];
    if (options.bias !== false) inputs.push((await this.param(`${prefix}.bias`)).value);
    const [left, right] = options.padding ?? [0, 0];
    return this.g.op('Conv', inputs, {
      kernel_shape: ints([weight.shape[2]!]),
      pads: ints([left, right]),
      dilations: ints([options.dilation ?? 1]),
      strides: ints([options.stride ?? 1]),
      group: int(1),
    });
  }

  /** nn.ConvTranspose1d with `padding` removed from both ends, as torch does. */
  async convTranspose1d(x: string, prefix: string, stride: number, padding: number): Promise<string> {
    const weight = await this.param(`${prefix}.weight`);
    const bias = await this.param(`${prefix}.bias`);
    return this.g.op('ConvTranspose', [x, weight.value, bias.value], {
      kernel_shape: ints([weight.shape[2]!]),
      pads: ints([padding, padding]),
      strides: ints([stride]),
      dilations: ints([1]),
      group: int(1),
    });
  }

  /** nn.Linear on the last axis: x @ W^T + b (W^T is stored transposed at export time). */
  async linear(x: string, prefix: string): Promise<string> {
    const weight = await this.raw(`${prefix}.weight`);
    const [outFeatures, inFeatures] = weight.shape as [number, number];
    const w = this.g.floats(`${prefix}.weight.T`, [inFeatures, outFeatures], transposed(weight.data, outFeatures, inFeatures));
    const bias = await this.param(`${prefix}.bias`);
    return this.g.op('Add', [this.g.op('MatMul', [x, w]), bias.value]);
  }

  leakyRelu(x: string, slope: number): string {
    return this.g.op('LeakyRelu', [x], { alpha: float(slope) });
  }

  mul(a: string, b: string): string {
    return this.g.op('Mul', [a, b]);
  }

  add(a: string, b: string): string {
    return this.g.op('Add', [a, b]);
  }

  /** x[:, from:to] along `axis` (static bounds). */
  slice(x: string, axis: number, from: number, to: number): string {
    return this.g.op('Slice', [x, this.g.vector([from]), this.g.vector([to]), this.g.vector([axis])]);
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.g.op('Transpose', [x], { perm: ints(perm) });
  }

  /** RVC's channel LayerNorm (modules.LayerNorm): layer_norm over C of a [B, C, T] tensor. */
  async layerNormChannels(x: string, prefix: string): Promise<string> {
    const gamma = await this.param(`${prefix}.gamma`);
    const beta = await this.param(`${prefix}.beta`);
    const btc = this.transpose(x, [0, 2, 1]);
    const normed = this.g.op('LayerNormalization', [btc, gamma.value, beta.value], { axis: int(-1), epsilon: float(1e-5) });
    return this.transpose(normed, [0, 2, 1]);
  }
}
