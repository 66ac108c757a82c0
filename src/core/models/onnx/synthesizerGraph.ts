import { flowReverse, type FlowShape } from './flowGraph.ts';
import { generator, type GeneratorShape } from './generatorGraph.ts';
import { GraphBuilder, int } from './graphBuilder.ts';
import type { GraphValue } from './onnxProto.ts';
import { Layers, type WeightSource } from './synthLayers.ts';
import { textEncoder, type TextEncoderShape } from './textEncoderGraph.ts';

/**
 * The synthesizer RVC's models_onnx.SynthesizerTrnMsNSFsidM describes, as an ONNX graph with the
 * same interface RVC's export writes (phone, phone_lengths, pitch, pitchf, ds, rnd → audio), so
 * files written here are read wherever RVC's are. No-pitch models, which RVC cannot export, get the
 * same graph without pitch and pitchf and with a plain HiFi-GAN decoder. `rnd` is used as given
 * (z_p = m_p + exp(logs_p)·rnd, RVC's ONNX convention; its PyTorch .infer() scales by 0.66666).
 */

export interface SynthesizerSpec extends TextEncoderShape, FlowShape, GeneratorShape {
  featureSize: 256 | 768;
  f0: boolean;
}

export interface GraphOptions {
  /** NSF source noise exactly zero (RVC's `nonoise` references); otherwise seeded from `rnd`. */
  noiseFree: boolean;
}

export async function buildSynthesizerGraph(spec: SynthesizerSpec, weights: WeightSource, options: GraphOptions): Promise<GraphValue> {
  const g = new GraphBuilder('rvc_synthesizer');
  const l = new Layers(g, weights);
  const phone = g.input('phone', 'float', [1, 'frames', spec.featureSize]);
  const lengths = g.input('phone_lengths', 'int64', [1]);
  const pitch = spec.f0 ? g.input('pitch', 'int64', [1, 'frames']) : null;
  const pitchf = spec.f0 ? g.input('pitchf', 'float', [1, 'frames']) : null;
  const ds = g.input('ds', 'int64', [1]);
  const rnd = g.input('rnd', 'float', [1, spec.interChannels, 'frames']);

  const speakerTable = await l.param('emb_g.weight');
  const speaker = g.op('Unsqueeze', [g.op('Gather', [speakerTable.value, ds], { axis: int(0) }), g.vector([2])]); // [1, gin, 1]
  const prior = await textEncoder(l, { phone, pitch, lengths }, spec);
  const zP = l.mul(l.add(prior.m, l.mul(g.op('Exp', [prior.logs]), rnd)), prior.xMask);
  const z = await flowReverse(l, zP, prior.xMask, speaker, spec);
  const audio = await generator(l, l.mul(z, prior.xMask), speaker, spec, { f0: pitchf, noiseSeedFrom: options.noiseFree ? null : rnd });
  g.output(audio, 'audio', 'float', [1, 1, 'samples']);
  return g.build();
}
