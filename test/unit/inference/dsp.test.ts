import * as assert from 'node:assert/strict';
import { butterHighPass, filtfilt } from '../../../src/core/inference/highPass.ts';
import { coarsePitch, medianFilter, roundHalfEven, transpose } from '../../../src/core/inference/pitch.ts';
import { decodeSalience, rmvpeLogMel } from '../../../src/core/inference/rmvpePitch.ts';
import { mixRms, rmsEnvelope } from '../../../src/core/inference/rmsMix.ts';
import { quietCutPoints, reflectPad } from '../../../src/core/inference/rvcChunking.ts';
import { toInt16 } from '../../../src/core/inference/rvcLevels.ts';
import { normalSource } from '../../../src/core/inference/voiceConverter.ts';
import { yinPitch } from '../../../src/core/inference/yinPitch.ts';

const sine = (f: number, rate: number, seconds: number, amp = 0.5): Float32Array =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / rate));

/** Amplitude of frequency f in x (single-bin DFT over the middle half, away from edge effects). */
function amplitudeAt(x: ArrayLike<number>, rate: number, f: number): number {
  const from = Math.floor(x.length / 4);
  const to = Math.floor((3 * x.length) / 4);
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * f * i) / rate);
    im += x[i]! * Math.sin((2 * Math.PI * f * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe('inference: signal processing', () => {
  describe("RVC's 48 Hz high-pass", () => {
    it('designs the same 5th-order Butterworth as scipy.signal.butter(5, 48, "high", fs=16000)', () => {
      const { b, a } = butterHighPass(5, 48, 16000);
      const scipyB = [
        0.9699606451838447, -4.849803225919223, 9.699606451838447, -9.699606451838447, 4.849803225919223, -0.9699606451838447,
      ];
      const scipyA = [1.0, -4.939001819168364, 9.757863526739543, -9.639544849413458, 4.761506797356209, -0.9408236532054606];
      b.forEach((v, i) => assert.ok(Math.abs(v - scipyB[i]!) < 1e-12, `b[${i}]`));
      a.forEach((v, i) => assert.ok(Math.abs(v - scipyA[i]!) < 1e-12, `a[${i}]`));
    });

    it('filtfilt matches scipy.signal.filtfilt (odd padding, steady-state start)', () => {
      const x = Float32Array.from({ length: 200 }, (_, i) => Math.sin(i * 0.05) * 0.5 + 0.2 + 0.001 * i);
      const y = filtfilt(butterHighPass(5, 48, 16000), x);
      const scipy: [number, number][] = [
        [0, 0.184179061],
        [1, 0.207788412],
        [50, 0.37678338],
        [100, -0.586605183],
        [150, 0.239290778],
        [198, -0.047505008],
        [199, -0.049367657],
      ];
      for (const [i, v] of scipy) assert.ok(Math.abs(y[i]! - v) < 1e-5, `y[${i}] = ${y[i]} vs ${v}`);
    });

    it('removes DC and rumble, keeps the voice band', () => {
      const x = Float32Array.from(sine(200, 16000, 1), (v, i) => v + 0.3 + 0.2 * Math.sin((2 * Math.PI * 10 * i) / 16000));
      const y = filtfilt(butterHighPass(5, 48, 16000), x);
      assert.ok(amplitudeAt(y, 16000, 10) < 0.002);
      assert.ok(Math.abs(amplitudeAt(y, 16000, 200) - 0.5) < 0.01);
    });
  });

  describe('built-in f0 estimator (YIN, hop 160 @ 16 kHz)', () => {
    for (const f of [60, 110, 220, 440, 880]) {
      it(`finds a ${f} Hz sine within 1%`, () => {
        const f0 = yinPitch(sine(f, 16000, 0.6), 60);
        for (let i = 5; i < 55; i++) assert.ok(Math.abs(f0[i]! - f) / f < 0.01, `frame ${i}: ${f0[i]}`);
      });
    }

    it('follows a glide 100 → 400 Hz within 1%, and reports silence as 0', () => {
      const rate = 16000;
      const x = new Float32Array(2 * rate + rate / 2);
      const hz = (t: number): number => 100 * Math.pow(4, t / 2);
      let phase = 0;
      for (let i = 0; i < 2 * rate; i++) {
        phase += (2 * Math.PI * hz(i / rate)) / rate;
        x[i] = 0.5 * Math.sin(phase);
      }
      const f0 = yinPitch(x, 250);
      for (let i = 5; i < 195; i++) assert.ok(Math.abs(f0[i]! - hz((i * 160) / rate)) / hz((i * 160) / rate) < 0.01, `frame ${i}`);
      for (let i = 210; i < 250; i++) assert.equal(f0[i], 0);
    });
  });

  describe('pitch transforms as RVC computes them', () => {
    it("coarse pitch equals RVC's mel formula on a table of values (numpy reference)", () => {
      const table: [number, number][] = [
        [0, 1],
        [30, 1],
        [50, 1],
        [55.5, 3],
        [100, 20],
        [110, 23],
        [220, 60],
        [233.08, 64],
        [440, 122],
        [523.25, 143],
        [880, 217],
        [1000, 238],
        [1100, 255],
        [1500, 255],
      ];
      for (const [hz, coarse] of table) assert.equal(coarsePitch(hz), coarse, `${hz} Hz`);
    });

    it('rounds halves to even like numpy.rint, transposes by 2^(n/12), median-filters like scipy.medfilt', () => {
      assert.deepEqual([0.5, 1.5, 2.5, -0.5, 2.4].map(roundHalfEven), [0, 2, 2, -0, 2]);
      assert.equal(transpose(Float64Array.of(220), 12)[0], 440);
      assert.deepEqual(Array.from(medianFilter(Float64Array.of(5, 1, 4, 0, 0, 3, 9, 2), 3)), [1, 4, 1, 0, 0, 3, 3, 2]);
    });
  });

  describe('RMVPE front and back end', () => {
    it('decodes salience as RVC does: local average of cents around the peak, 0 under the threshold', () => {
      const frames = 3;
      const s = new Float32Array(frames * 360);
      s[0 * 360 + 100] = 0.9; // exactly bin 100 → 10·2^((2000+1997.38)/1200)
      s[1 * 360 + 200] = 0.5;
      s[1 * 360 + 201] = 0.5; // halfway between bins 200 and 201
      s[2 * 360 + 50] = 0.02; // below 0.03
      const f0 = decodeSalience(s, frames);
      assert.ok(Math.abs(f0[0]! - 10 * Math.pow(2, (20 * 100 + 1997.3794084376191) / 1200)) < 1e-3);
      assert.ok(Math.abs(f0[1]! - 10 * Math.pow(2, (20 * 200.5 + 1997.3794084376191) / 1200)) < 1e-3);
      assert.equal(f0[2], 0);
    });

    it('log-mel: 1 + N/160 frames, a 1 kHz tone peaks in the mel band holding 1 kHz', () => {
      const { mel, frames } = rmvpeLogMel(sine(1000, 16000, 0.5));
      assert.equal(frames, 51);
      const mid = 25;
      let best = 0;
      for (let m = 0; m < 128; m++) if (mel[m * frames + mid]! > mel[best * frames + mid]!) best = m;
      const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
      const expected = ((hzToMel(1000) - hzToMel(30)) / (hzToMel(8000) - hzToMel(30))) * 129 - 1;
      assert.ok(Math.abs(best - expected) <= 1, `peak band ${best}, expected ≈ ${expected.toFixed(1)}`);
    });
  });

  describe('pipeline pieces', () => {
    it('reflect-pads like numpy mode="reflect", also past one reflection', () => {
      assert.deepEqual(
        Array.from(reflectPad(Float32Array.of(0, 1, 2, 3, 4), 7, 7)),
        [1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3],
      );
    });

    it("cuts long input where |Σ of 160 samples| is least near every t_center (RVC's CPU 38 s), never below 41 s", () => {
      assert.deepEqual(quietCutPoints(new Float64Array(16000 * 41 - 160)), []);
      // Positive everywhere but a silent stretch at 40 s: the only place the windowed sum reaches 0.
      const x = Float64Array.from({ length: 16000 * 50 }, (_, i) => 0.5 + 0.3 * Math.sin(i * 0.1));
      const quiet = 16000 * 40;
      x.fill(0, quiet, quiet + 400);
      const cuts = quietCutPoints(x);
      assert.equal(cuts.length, 1);
      // The first index whose 160-sample centred window lies in the silence: quiet + 80.
      assert.equal(cuts[0], quiet + 80);
    });

    it("rms mix: rate 1 leaves the output, rate 0 imposes the input's envelope (librosa framing)", () => {
      assert.equal(rmsEnvelope(new Float32Array(16000), 16000).length, 3);
      const input = Float32Array.from(sine(200, 16000, 2), (v, i) => (i < 16000 ? v * 0.1 : v));
      const out1 = sine(300, 40000, 2);
      mixRms(input, 16000, out1, 40000, 1);
      assert.ok(Math.abs(amplitudeAt(out1, 40000, 300) - 0.5) < 1e-3);
      const out0 = sine(300, 40000, 2);
      mixRms(input, 16000, out0, 40000, 0);
      const early = amplitudeAt(out0.subarray(4000, 16000), 40000, 300);
      const late = amplitudeAt(out0.subarray(64000, 76000), 40000, 300);
      assert.ok(late / early > 5, `envelope ratio ${late / early}`);
    });

    it('int16 output: peak limited to 0.99, no wrap-around; seeded noise is repeatable and standard normal', () => {
      const pcm = toInt16(Float32Array.of(0, 0.5, -2, 2));
      assert.equal(pcm[3], Math.trunc(2 * (32768 / (2 / 0.99))));
      assert.ok(pcm[2]! >= -32768 && pcm[3]! <= 32767);
      assert.equal(toInt16(Float32Array.of(0.5))[0], 16384);
      assert.equal(toInt16(Float32Array.of(1))[0], Math.trunc(0.99 * 32768));
      const a = normalSource(7);
      const b = normalSource(7);
      const draws = Array.from({ length: 20000 }, () => a());
      assert.equal(
        draws[5],
        (() => {
          for (let i = 0; i < 5; i++) b();
          return b();
        })(),
      );
      const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
      const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / draws.length;
      assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05);
    });
  });
});
