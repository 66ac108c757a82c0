/**
 * The parameters an RVC synthesizer has, by name and shape, derived from its config the way
 * RVC's infer_pack/models.py builds SynthesizerTrnMs{256,768}NSFsid (with pitch) and its `_nono`
 * twin (without): TextEncoder `enc_p`, GeneratorNSF/Generator `dec`, ResidualCouplingBlock `flow`
 * and the speaker table `emb_g`. The posterior encoder `enc_q` is training-only and not listed.
 * Names are the folded ones (`….weight`, weight norm removed), as an exporter consumes them.
 */

export interface RvcSynthConfig {
  spec_channels: number;
  segment_size: number;
  inter_channels: number;
  hidden_channels: number;
  filter_channels: number;
  n_heads: number;
  n_layers: number;
  kernel_size: number;
  p_dropout: number;
  resblock: '1' | '2';
  resblock_kernel_sizes: number[];
  resblock_dilation_sizes: number[][];
  upsample_rates: number[];
  upsample_initial_channel: number;
  upsample_kernel_sizes: number[];
  spk_embed_dim: number;
  gin_channels: number;
  sr: number;
}

/** attentions.Encoder's default; RVC never overrides it. */
export const WINDOW_SIZE = 10;
/** ResidualCouplingBlock(inter, hidden, 5, 1, 3, gin): 4 coupling layers (even indices; odd ones are Flips). */
export const FLOWS = 4;
export const FLOW_KERNEL = 5;
export const FLOW_LAYERS = 3;

type Shapes = Map<string, number[]>;

export function expectedParameters(config: RvcSynthConfig, options: { f0: boolean; featureSize: number; speakers: number }): Shapes {
  const shapes: Shapes = new Map();
  textEncoder(shapes, config, options);
  decoder(shapes, config, options.f0);
  flow(shapes, config);
  shapes.set('emb_g.weight', [options.speakers, config.gin_channels]);
  return shapes;
}

function conv(shapes: Shapes, name: string, out: number, inChannels: number, kernel: number, bias = true): void {
  shapes.set(`${name}.weight`, [out, inChannels, kernel]);
  if (bias) shapes.set(`${name}.bias`, [out]);
}

function textEncoder(shapes: Shapes, c: RvcSynthConfig, { f0, featureSize }: { f0: boolean; featureSize: number }): void {
  const h = c.hidden_channels;
  shapes.set('enc_p.emb_phone.weight', [h, featureSize]);
  shapes.set('enc_p.emb_phone.bias', [h]);
  if (f0) shapes.set('enc_p.emb_pitch.weight', [256, h]);
  for (let l = 0; l < c.n_layers; l++) {
    const attn = `enc_p.encoder.attn_layers.${l}`;
    shapes.set(`${attn}.emb_rel_k`, [1, 2 * WINDOW_SIZE + 1, Math.floor(h / c.n_heads)]);
    shapes.set(`${attn}.emb_rel_v`, [1, 2 * WINDOW_SIZE + 1, Math.floor(h / c.n_heads)]);
    for (const p of ['q', 'k', 'v', 'o']) conv(shapes, `${attn}.conv_${p}`, h, h, 1);
    layerNorm(shapes, `enc_p.encoder.norm_layers_1.${l}`, h);
    conv(shapes, `enc_p.encoder.ffn_layers.${l}.conv_1`, c.filter_channels, h, c.kernel_size);
    conv(shapes, `enc_p.encoder.ffn_layers.${l}.conv_2`, h, c.filter_channels, c.kernel_size);
    layerNorm(shapes, `enc_p.encoder.norm_layers_2.${l}`, h);
  }
  conv(shapes, 'enc_p.proj', 2 * c.inter_channels, h, 1);
}

function layerNorm(shapes: Shapes, name: string, channels: number): void {
  shapes.set(`${name}.gamma`, [channels]);
  shapes.set(`${name}.beta`, [channels]);
}

/** Channels after upsampling stage i (Python's `initial // 2 ** (i + 1)`). */
function stageChannels(c: RvcSynthConfig, i: number): number {
  return Math.floor(c.upsample_initial_channel / 2 ** (i + 1));
}

function decoder(shapes: Shapes, c: RvcSynthConfig, f0: boolean): void {
  const stages = c.upsample_rates.length;
  if (f0) {
    shapes.set('dec.m_source.l_linear.weight', [1, 1]);
    shapes.set('dec.m_source.l_linear.bias', [1]);
    for (let i = 0; i < stages; i++) {
      const strideF0 = c.upsample_rates.slice(i + 1).reduce((p, r) => p * r, 1);
      conv(shapes, `dec.noise_convs.${i}`, stageChannels(c, i), 1, i + 1 < stages ? strideF0 * 2 : 1);
    }
  }
  conv(shapes, 'dec.conv_pre', c.upsample_initial_channel, c.inter_channels, 7);
  for (let i = 0; i < stages; i++) {
    // ConvTranspose1d weights are [in, out, kernel].
    shapes.set(`dec.ups.${i}.weight`, [Math.floor(c.upsample_initial_channel / 2 ** i), stageChannels(c, i), c.upsample_kernel_sizes[i]!]);
    shapes.set(`dec.ups.${i}.bias`, [stageChannels(c, i)]);
  }
  const kernels = c.resblock_kernel_sizes.length;
  for (let i = 0; i < stages; i++) {
    for (let j = 0; j < kernels; j++)
      resblock(shapes, `dec.resblocks.${i * kernels + j}`, c.resblock, stageChannels(c, i), c.resblock_kernel_sizes[j]!);
  }
  conv(shapes, 'dec.conv_post', 1, stageChannels(c, stages - 1), 7, false);
  if (c.gin_channels !== 0) conv(shapes, 'dec.cond', c.upsample_initial_channel, c.gin_channels, 1);
}

function resblock(shapes: Shapes, name: string, kind: '1' | '2', channels: number, kernel: number): void {
  const groups = kind === '1' ? ['convs1', 'convs2'] : ['convs'];
  const count = kind === '1' ? 3 : 2;
  for (const group of groups) for (let k = 0; k < count; k++) conv(shapes, `${name}.${group}.${k}`, channels, channels, kernel);
}

function flow(shapes: Shapes, c: RvcSynthConfig): void {
  const h = c.hidden_channels;
  const half = Math.floor(c.inter_channels / 2);
  for (let f = 0; f < FLOWS; f++) {
    const name = `flow.flows.${2 * f}`;
    conv(shapes, `${name}.pre`, h, half, 1);
    if (c.gin_channels !== 0) conv(shapes, `${name}.enc.cond_layer`, 2 * h * FLOW_LAYERS, c.gin_channels, 1);
    for (let l = 0; l < FLOW_LAYERS; l++) {
      conv(shapes, `${name}.enc.in_layers.${l}`, 2 * h, h, FLOW_KERNEL);
      conv(shapes, `${name}.enc.res_skip_layers.${l}`, l < FLOW_LAYERS - 1 ? 2 * h : h, h, 1);
    }
    conv(shapes, `${name}.post`, half, h, 1);
  }
}
