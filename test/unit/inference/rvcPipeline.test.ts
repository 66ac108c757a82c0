import * as assert from 'node:assert/strict';
import { applyF0Curve, interp, parseF0Curve } from '../../../src/core/inference/f0Curve.ts';
import { shapeF0 } from '../../../src/core/inference/f0Stage.ts';
import { encodeNpy, parseNpy } from '../../../src/core/inference/npyFile.ts';
import { buildPhone } from '../../../src/core/inference/phoneStage.ts';
import { chunkSpans, quietCutPoints, synthFrames } from '../../../src/core/inference/rvcChunking.ts';
import { limitPeak, toInt16 } from '../../../src/core/inference/rvcLevels.ts';
import { UserError } from '../../../src/core/util/errors.ts';

/** ContentVec's frame count for n samples at 16 kHz (its conv front end: 400-sample window, 320 hop). */
const featureFrames = (n: number): number => Math.floor((n - 400) / 320) + 1;

/** Output samples at 48 kHz for a 16 kHz input of n samples, by RVC's arithmetic. */
function rvcOutputSamples(audio: Float64Array): number {
  const padded = audio.length + 32000;
  return chunkSpans(quietCutPoints(audio), padded)
    .map((s) => {
      const len = s.audioEnd - s.audioStart;
      const frames = Math.min(synthFrames(len, featureFrames(len)), s.pitchEnd - s.pitchStart);
      return Math.max(0, 480 * frames - 96000);
    })
    .reduce((a, b) => a + b, 0);
}

describe('inference: RVC 20240604 pipeline arithmetic', () => {
  describe('chunking (pipeline.py, CPU constants 1/6/38/41)', () => {
    it('one call up to 41 s; the tenor fixture (34125 samples) gives RVC’s 101760 output samples, not 3 × 34125', () => {
      const audio = new Float64Array(34125);
      const spans = chunkSpans(quietCutPoints(audio), audio.length + 32000);
      assert.deepEqual(spans, [{ audioStart: 0, audioEnd: 66125, pitchStart: 0, pitchEnd: 413 }]);
      assert.equal(synthFrames(66125, featureFrames(66125)), 412);
      assert.equal(rvcOutputSamples(audio), 101760);
    });

    it('a 42 s input is 2 chunks cut at its quiet point floored to a frame; slices as pipeline.py makes them', () => {
      const audio = Float64Array.from({ length: 42 * 16000 }, (_, i) => 0.4 + 0.2 * Math.sin(i / 7));
      const quiet = 37 * 16000 + 1234;
      audio.fill(0, quiet, quiet + 300);
      const cuts = quietCutPoints(audio);
      assert.deepEqual(cuts, [quiet + 80]);
      const t = Math.floor((quiet + 80) / 160) * 160;
      const spans = chunkSpans(cuts, audio.length + 32000);
      assert.deepEqual(spans, [
        { audioStart: 0, audioEnd: t + 32160, pitchStart: 0, pitchEnd: (t + 32000) / 160 },
        { audioStart: t, audioEnd: audio.length + 32000, pitchStart: t / 160, pitchEnd: (audio.length + 32000) / 160 },
      ]);
    });

    it('a cut at an odd frame drops one frame (10 ms) at the junction, as RVC does', () => {
      // Chunk of m·160 + 32160 samples: features give m + 200 frames for even m, m + 199 for odd m.
      const even = 2 * 160 + 32160;
      const odd = 3 * 160 + 32160;
      assert.equal(synthFrames(even, featureFrames(even)), 202);
      assert.equal(synthFrames(odd, featureFrames(odd)), 202);
    });
  });

  describe('f0 (get_f0)', () => {
    it('the median filter runs for harvest with filter radius ≥ 3 only, never for rmvpe', () => {
      const raw = Float64Array.of(100, 300, 100, 100, 0, 200, 200);
      const base = { transpose: 0, curve: null, xPad: 1 };
      assert.deepEqual(Array.from(shapeF0(raw, { ...base, method: 'rmvpe', filterRadius: 7 }).f0), Array.from(raw));
      assert.deepEqual(Array.from(shapeF0(raw, { ...base, method: 'harvest', filterRadius: 2 }).f0), Array.from(raw));
      assert.deepEqual(Array.from(shapeF0(raw, { ...base, method: 'harvest', filterRadius: 3 }).f0), [100, 100, 100, 100, 100, 200, 200]);
    });

    it('the F0 curve file replaces frames from x_pad·100 on, sampled at 100 frames/s, after (not under) the key shift', () => {
      const curve = parseF0Curve('0,200\n0.02,300\n0.04,300\n', 'curve.txt');
      const f0 = new Float64Array(110).fill(100);
      applyF0Curve(f0, curve, 1);
      assert.deepEqual(Array.from(f0.subarray(98, 106)), [100, 100, 200, 250, 300, 300, 300, 100]);
      const shaped = shapeF0(new Float64Array(110).fill(100), { method: 'rmvpe', transpose: 12, filterRadius: 3, curve, xPad: 1 });
      assert.equal(shaped.f0[99], 200);
      assert.equal(shaped.f0[101], 250);
    });

    it('numpy.interp clamps at both ends; a curve file that is not time,f0 is refused with the line at fault', () => {
      const xp = Float32Array.of(0, 10);
      const fp = Float32Array.of(1, 3);
      assert.deepEqual(
        [-5, 0, 5, 10, 20].map((x) => interp(x, xp, fp)),
        [1, 1, 2, 3, 3],
      );
      for (const [text, message] of [
        ['0,100\nnot,numbers\n', /line 2 .* is not "time,f0"/],
        ['0,100\n0.5\n', /line 2/],
        ['1,100\n0.5,120\n', /times must increase/],
        ['0,-5\n', /f0 must be ≥ 0/],
      ] as const) {
        assert.throws(
          () => parseF0Curve(text, 'f0.txt'),
          (e: unknown) => e instanceof UserError && message.test(e.message),
        );
      }
      assert.equal(parseF0Curve(' 0.5 , 1e2 \r\n', 'x').values[0], 100);
    });
  });

  it('protect: mask 1 where pitchf > 0, protect where pitchf < 1 (which wins between 0 and 1), features ×2 by repetition', () => {
    const feats = Float32Array.of(1, 1, 1, 1); // 2 frames × width 2
    const feats0 = Float32Array.of(0, 0, 0, 0);
    const phone = buildPhone(feats, feats0, Float32Array.of(200, 0, 0.5, 150), 0.25, 4, 2);
    assert.deepEqual(Array.from(phone), [1, 1, 0.25, 0.25, 0.25, 0.25, 1, 1]);
  });

  it('levels: the input is scaled only above a 0.95 peak; the output ×32768 in float32, scaled only above 0.99, truncated', () => {
    const quiet = Float32Array.of(0.5, -0.9);
    assert.equal(limitPeak(quiet), quiet);
    assert.ok(Math.abs(limitPeak(Float32Array.of(1.9, -0.5))[0]! - 0.95) < 1e-7);
    assert.deepEqual(Array.from(toInt16(Float32Array.of(0.5, -0.00002, 0.99))), [16384, 0, 32440]);
  });

  it('.npy written for --dump-stages reads back with dtype and shape', () => {
    const back = parseNpy(encodeNpy(Float64Array.of(1.5, -2, 3, 4), [2, 2]), 'x', Float64Array);
    assert.deepEqual(back.shape, [2, 2]);
    assert.deepEqual(Array.from(back.data), [1.5, -2, 3, 4]);
    assert.deepEqual(Array.from(parseNpy(encodeNpy(BigInt64Array.of(7n, -1n))).data), [7, -1]);
  });
});
