import { int } from './graphBuilder.ts';
import type { Layers } from './synthLayers.ts';

/**
 * The NSF source's Gaussian noise without hidden state. RVC's graph draws it with
 * RandomNormalLike, which onnxruntime seeds once per session, so two runs of the same input differ
 * and a re-run cannot reproduce a conversion. Here the noise is a counter-based hash of the sample
 * index, keyed by the bits of two `rnd` values: the latent noise we feed is drawn from the
 * conversion's seed, so the same seed gives the same noise in any session, while a caller that
 * feeds fresh `rnd` each time (RVC's onnx_inference.py) gets fresh source noise as before.
 */

const TWO_32 = 2 ** 32;
const MIX = 0x45d9f3b; // the multiplier of a well-mixing 32-bit integer hash; < 2^31, so x·MIX stays < 2^63
const GOLDEN = 0x9e3779b9;

/** A 32-bit avalanche hash in int64 arithmetic: values stay in [0, 2^32), products below 2^63. */
function hash32(l: Layers, x: string): string {
  const g = l.g;
  const shiftXor = (v: string): string => g.op('BitwiseXor', [v, g.op('Div', [v, g.vector([65536])])]);
  const mixMod = (v: string): string => g.op('Mod', [g.op('Mul', [v, g.vector([MIX])]), g.vector([TWO_32])]);
  return shiftXor(mixMod(shiftXor(mixMod(shiftXor(x)))));
}

/** 24 random bits → a float in (0, 1), exact in float32. */
function unit(l: Layers, bits: string): string {
  const g = l.g;
  const top = g.op('Cast', [g.op('Div', [bits, g.vector([256])])], { to: int(1) });
  return l.mul(l.add(top, g.scalar(0.5)), g.scalar(2 ** -24));
}

function keyFromLatent(l: Layers, rnd: string): string {
  const g = l.g;
  const bits = (channel: number): string => {
    const value = g.op('Slice', [rnd, g.vector([0, channel, 0]), g.vector([1, channel + 1, 1]), g.vector([0, 1, 2])]);
    return g.op('Cast', [g.op('Floor', [l.mul(g.op('Abs', [value]), g.scalar(2 ** 20))])], { to: int(7) });
  };
  const combined = g.op('Add', [g.op('Mul', [bits(0), g.vector([8388608])]), bits(1)]);
  const key = g.op('Mod', [g.op('Add', [combined, g.vector([GOLDEN])]), g.vector([TWO_32])]);
  return g.op('Reshape', [hash32(l, key), g.vector([1])]);
}

/** Standard normal noise shaped like `like` ([1, N, 1]), by Box–Muller on hashed counters. */
export function seededSourceNoise(l: Layers, like: string, rnd: string): string {
  const g = l.g;
  const shape = g.op('Shape', [like]);
  const count = g.op('Gather', [shape, g.scalarInt(1)], { axis: int(0) });
  const index = g.op('Mul', [g.op('Range', [g.scalarInt(0), count, g.scalarInt(1)]), g.vector([2])]);
  const key = keyFromLatent(l, rnd);
  const u1 = unit(l, hash32(l, g.op('BitwiseXor', [index, key])));
  const u2 = unit(l, hash32(l, g.op('BitwiseXor', [g.op('Add', [index, g.vector([1])]), key])));
  const radius = g.op('Sqrt', [l.mul(g.op('Log', [u1]), g.scalar(-2))]);
  const normal = l.mul(radius, g.op('Cos', [l.mul(u2, g.scalar(Math.fround(2 * Math.PI)))]));
  return g.op('Reshape', [normal, shape]);
}
