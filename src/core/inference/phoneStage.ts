import { searchIvfFlat, type IvfFlatIndex } from './faissIndex.ts';
import { onnxRuntime, type OrtSession } from './onnxRuntime.ts';

/**
 * The synthesizer's content input for one chunk, as RVC's Pipeline.vc builds it: ContentVec
 * features at 50 frames/s, the index blend (at 50 Hz, before the ×2 step), nearest-neighbour ×2
 * to 100 frames/s, then protect. Arithmetic is float32 where RVC's is (torch/numpy float32).
 */
const f = Math.fround;

export interface Features {
  /** [frames, width] row-major. */
  data: Float32Array;
  frames: number;
}

export async function contentVecFeatures(session: OrtSession, segment: Float32Array, width: number): Promise<Features> {
  const ort = onnxRuntime();
  const result = await session.run({
    [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(segment), [1, 1, segment.length]),
  });
  const embed = result[session.outputNames[0]!]!;
  // One published ContentVec export answers [1,C,T]; the layout is read from the shape.
  const channelsFirst = embed.dims[2] !== width && embed.dims[1] === width;
  const frames = channelsFirst ? embed.dims[2]! : embed.dims[1]!;
  const data = channelsFirst ? transposeFrames(embed.data as Float32Array, width, frames) : Float32Array.from(embed.data as Float32Array);
  return { data, frames };
}

/** An index with faiss's reconstruct_n (row id → vector), what RVC calls big_npy. */
export interface RetrievalIndex {
  index: IvfFlatIndex;
  vectors: Float32Array;
}

export interface Retrieval {
  blended: Float32Array;
  ids: BigInt64Array;
  distances: Float32Array;
}

/** numpy's pairwise sum of 8 float32 values (its unrolled block): ((0+1)+(2+3))+((4+5)+(6+7)). */
function sum8(w: Float32Array): number {
  return f(f(f(w[0]! + w[1]!) + f(w[2]! + w[3]!)) + f(f(w[4]! + w[5]!) + f(w[6]! + w[7]!)));
}

/**
 * `score, ix = index.search(npy, k=8)`; weights (1/score)², normalised per frame; the weighted
 * sum of the neighbours blended as `retrieved·rate + feats·(1−rate)`. A query at distance 0
 * (a training frame itself) makes RVC's weights inf/inf = NaN; it takes the whole weight here.
 */
export function retrieve(cached: RetrievalIndex, feats: Features, width: number, rate: number): Retrieval {
  const k = 8;
  const { frames } = feats;
  const { ids, distances } = searchIvfFlat(cached.index, feats.data.subarray(0, frames * width), k);
  const out = new Float32Array(frames * width);
  const idsOut = new BigInt64Array(frames * k);
  const distOut = new Float32Array(frames * k);
  const weights = new Float32Array(k);
  const mixed = new Float32Array(width);
  const keep = f(1 - rate);
  for (let t = 0; t < frames; t++) {
    const rowIds = ids[t]!;
    const rowD = distances[t]!;
    for (let j = 0; j < k; j++) {
      idsOut[t * k + j] = BigInt(rowIds[j]!);
      distOut[t * k + j] = rowD[j]!;
      const inv = f(1 / rowD[j]!);
      weights[j] = rowIds[j]! < 0 ? 0 : f(inv * inv);
    }
    if (weights.some((w) => w === Infinity)) for (let j = 0; j < k; j++) weights[j] = weights[j] === Infinity ? 1 : 0;
    const total = sum8(weights);
    const own = feats.data.subarray(t * width, (t + 1) * width);
    if (!(total > 0)) {
      out.set(own, t * width);
      continue;
    }
    mixed.fill(0);
    for (let j = 0; j < k; j++) {
      const w = f(weights[j]! / total);
      if (w === 0) continue;
      const base = rowIds[j]! * width;
      for (let c = 0; c < width; c++) mixed[c] = f(mixed[c]! + f(cached.vectors[base + c]! * w));
    }
    for (let c = 0; c < width; c++) out[t * width + c] = f(f(mixed[c]! * f(rate)) + f(keep * own[c]!));
  }
  return { blended: out, ids: idsOut, distances: distOut };
}

/**
 * ×2 by repetition (F.interpolate's default 'nearest'), then protect where protect < 0.5:
 * mask 1 where pitchf > 0, `protect` where pitchf < 1 (the latter wins), and
 * feats·m + feats0·(1−m) with feats0 the features before the index.
 */
export function buildPhone(
  feats: Float32Array,
  feats0: Float32Array | null,
  pitchf: Float32Array | null,
  protect: number,
  frames: number,
  width: number,
): Float32Array {
  const phone = new Float32Array(frames * width);
  const protectF = f(protect);
  for (let t = 0; t < frames; t++) {
    const src = (t >> 1) * width;
    if (!feats0 || !pitchf) {
      phone.set(feats.subarray(src, src + width), t * width);
      continue;
    }
    const p = pitchf[t]!;
    const m = p < 1 ? protectF : p > 0 ? 1 : protectF;
    const rest = f(1 - m);
    for (let c = 0; c < width; c++) phone[t * width + c] = f(f(feats[src + c]! * m) + f(feats0[src + c]! * rest));
  }
  return phone;
}

/** [C,T] row-major → [T,C] row-major. */
function transposeFrames(data: Float32Array, channels: number, frames: number): Float32Array {
  const out = new Float32Array(channels * frames);
  for (let c = 0; c < channels; c++) for (let t = 0; t < frames; t++) out[t * channels + c] = data[c * frames + t]!;
  return out;
}
