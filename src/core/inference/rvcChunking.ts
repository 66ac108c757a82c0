/**
 * How RVC 20240604 cuts a conversion into synthesizer calls (infer/modules/vc/pipeline.py,
 * configs/config.py), index for index: the cut points, the chunk slices, the frames each call
 * gets. Getting any of these one sample or frame off moves the NSF phase and the output length.
 */
// RVC's own names for them (pipeline.py's self.sr, self.window), so the code reads index for index.
import { ANALYSIS_RATE as SR, FRAME_HOP as WINDOW } from './analysisGrid.ts';

export interface ChunkConstants {
  /** Seconds of reflected context on each side of the input and of every chunk. */
  xPad: number;
  /** Seconds either side of a nominal cut searched for the quietest point. */
  xQuery: number;
  /** Seconds between nominal cuts. */
  xCenter: number;
  /** Inputs up to this long (plus 10 ms) are converted in one call. */
  xMax: number;
}

/**
 * configs/config.py device_config. A conversion on onnxruntime's CPU provider uses RVC's CPU
 * values; the GPU rows are RVC's for fp16 GPUs and for GPUs with ≤ 4 GB, for when a GPU
 * provider runs the synthesizer.
 */
export const RVC_CHUNK_CONSTANTS = {
  cpu: { xPad: 1, xQuery: 6, xCenter: 38, xMax: 41 },
  halfPrecisionGpu: { xPad: 3, xQuery: 10, xCenter: 60, xMax: 65 },
  smallGpu: { xPad: 1, xQuery: 5, xCenter: 30, xMax: 32 },
} as const satisfies Record<string, ChunkConstants>;

/** numpy's mode="reflect" padding (the edge sample is not repeated), in float64. */
export function reflectPad(x: ArrayLike<number>, left: number, right: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n + left + right);
  const period = 2 * (n - 1);
  for (let i = 0; i < out.length; i++) {
    let j = i - left;
    if (n === 1) j = 0;
    else {
      j = ((j % period) + period) % period;
      if (j >= n) j = period - j;
    }
    out[i] = x[j]!;
  }
  return out;
}

/**
 * RVC's opt_ts: for every t in range(t_center, len, t_center), the first index in
 * [t − t_query, t + t_query) where |Σ of 160 samples| is smallest. The sum is of the signed,
 * high-passed samples (abs is taken of the sum), added in RVC's order so ties resolve as in RVC.
 */
export function quietCutPoints(audio: Float64Array, c: ChunkConstants = RVC_CHUNK_CONSTANTS.cpu): number[] {
  const tQuery = SR * c.xQuery;
  const tCenter = SR * c.xCenter;
  if (audio.length + WINDOW <= SR * c.xMax) return [];
  const padded = reflectPad(audio, WINDOW / 2, WINDOW / 2);
  const cuts: number[] = [];
  for (let t = tCenter; t < audio.length; t += tCenter) {
    const from = t - tQuery;
    const to = Math.min(t + tQuery, audio.length);
    // Tap by tap over all positions, as numpy's `audio_sum += audio_pad[i : i - window]`: each
    // position's sum gets its terms in RVC's order, so equal sums tie exactly as in RVC.
    const sums = new Float64Array(to - from);
    for (let i = 0; i < WINDOW; i++) for (let j = from; j < to; j++) sums[j - from]! += padded[j + i]!;
    let best = 0;
    for (let j = 1; j < sums.length; j++) if (Math.abs(sums[j]!) < Math.abs(sums[best]!)) best = j;
    cuts.push(from + best);
  }
  return cuts;
}

/** One synthesizer call: a slice of the padded audio and the f0 frames that go with it. */
export interface ChunkSpan {
  audioStart: number;
  audioEnd: number;
  pitchStart: number;
  pitchEnd: number;
}

/**
 * pipeline.py's loop: each cut is floored to a frame, a chunk runs from the previous cut to this
 * one plus both pads and one frame, and the last chunk takes the rest. The cut indexes are of the
 * unpadded audio but slice the padded one — RVC's own arithmetic, kept.
 */
export function chunkSpans(cuts: readonly number[], paddedLength: number, c: ChunkConstants = RVC_CHUNK_CONSTANTS.cpu): ChunkSpan[] {
  const tPad2 = 2 * SR * c.xPad;
  const pLen = Math.floor(paddedLength / WINDOW);
  const spans: ChunkSpan[] = [];
  let s = 0;
  let last: number | null = null;
  for (const cut of cuts) {
    const t = Math.floor(cut / WINDOW) * WINDOW;
    spans.push({
      audioStart: s,
      audioEnd: Math.min(t + tPad2 + WINDOW, paddedLength),
      pitchStart: Math.floor(s / WINDOW),
      pitchEnd: Math.min(Math.floor((t + tPad2) / WINDOW), pLen),
    });
    s = t;
    last = t;
  }
  spans.push({ audioStart: last ?? 0, audioEnd: paddedLength, pitchStart: last === null ? 0 : last / WINDOW, pitchEnd: pLen });
  return spans;
}

/**
 * The frames one synthesizer call gets (vc(): p_len = len // 160, lowered to the 2× feature
 * count). Where a chunk's length makes the features one short, its last pitch frame is dropped:
 * RVC loses 10 ms at such a junction, and so do we.
 */
export function synthFrames(chunkSamples: number, featureFrames50: number): number {
  return Math.min(Math.floor(chunkSamples / WINDOW), 2 * featureFrames50);
}
