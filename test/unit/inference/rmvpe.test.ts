import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openSession, type OrtSession } from '../../../src/core/inference/onnxRuntime.ts';
import { rmvpePitch } from '../../../src/core/inference/rmvpePitch.ts';
import { VoiceConverter } from '../../../src/core/inference/voiceConverter.ts';
import { floatToInt16, readWav, writeWav16 } from '../../../src/core/inference/wavFile.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { CONVERT_DEFAULTS, type ConvertParams } from '../../../src/protocol/inferenceWorkerProtocol.ts';
import { makeTempDir, repoRoot } from '../../support/tempDir.ts';
import { fx, requireFixtures } from './fixtures.ts';

/** The test double of RVC's RMVPE (test/doubles/rmvpe/makeRmvpeDouble.py): a peak at bin 150 on every audible frame. */
const rmvpeDouble = path.join(repoRoot, 'test', 'doubles', 'rmvpe', 'rmvpe.double.onnx');
// Computed here from RVC's cents mapping, not taken from rmvpePitch.ts, so a wrong constant there shows.
const DOUBLE_F0 = 10 * Math.pow(2, (20 * 150 + 1997.3794084376191) / 1200);
const HOP = 160;
/** RVC's length for 2.5 s (40000 samples at 16 kHz): 448 frames of the padded 72000 (ContentVec's 224 × 2), × 400, less 1 s each side. */
const RVC_2_5S_AT_40K = 448 * 400 - 2 * 40000;

/** A voice-like 16 kHz signal: a 150 Hz tone with two harmonics, then digital silence from `voicedSamples` on. */
function halfSilent(samples: number, voicedSamples: number): Float32Array {
  const x = new Float32Array(samples);
  for (let i = 0; i < voicedSamples; i++) {
    const phase = (2 * Math.PI * 150 * i) / 16000;
    x[i] = 0.3 * (Math.sin(phase) + 0.3 * Math.sin(2 * phase) + 0.1 * Math.sin(3 * phase));
  }
  return x;
}

/** Records the shape of every mel the session is fed, and forwards the run to the real session. */
function recording(session: OrtSession): { session: OrtSession; fed: number[][] } {
  const fed: number[][] = [];
  const spy = new Proxy(session, {
    get(target, prop) {
      if (prop === 'run') {
        return (feeds: Record<string, { dims: readonly number[] }>) => {
          for (const tensor of Object.values(feeds)) fed.push([...tensor.dims]);
          return target.run(feeds as never);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { session: spy, fed };
}

describe('inference: RMVPE through ONNX (test double of the RMVPE model)', function () {
  let session: OrtSession;
  before(async () => {
    session = await openSession(rmvpeDouble, { threads: 1 });
  });
  after(async () => {
    await session?.release();
  });

  it('gives the known f0 on voiced frames and 0 on silent ones of a 2 s signal with a silent half', async () => {
    assert.ok(Math.abs(DOUBLE_F0 - 179.32) < 0.01, `bin 150 is ${DOUBLE_F0} Hz`);
    const audio = halfSilent(32000, 16000);
    const frames = 1 + Math.floor(audio.length / HOP);
    const f0 = await rmvpePitch(session, audio, frames);
    assert.equal(f0.length, frames);
    // A frame's window spans 1024 samples around f·160, so frames within 4 of the edge at frame 100 mix both halves.
    let worst = 0;
    for (let t = 0; t <= 96; t++) {
      assert.ok(f0[t]! > 0, `frame ${t} is voiced`);
      worst = Math.max(worst, Math.abs(f0[t]! - DOUBLE_F0) / DOUBLE_F0);
    }
    assert.ok(worst < 0.005, `worst relative f0 error ${worst}`);
    for (let t = 104; t < frames; t++) assert.equal(f0[t], 0, `frame ${t} is unvoiced`);
    console.log(`    RMVPE double: ${DOUBLE_F0.toFixed(3)} Hz expected, worst relative error on voiced frames ${worst.toExponential(2)}`);
  });

  it('pads the mel to a multiple of 32 frames and trims the salience back, whatever the length', async () => {
    const { session: spy, fed } = recording(session);
    // mel lengths 32 (already a multiple), 33, 47, 63, 64, 65 and 101
    for (const samples of [4960, 5120, 7400, 9920, 10080, 10240, 16000]) {
      const melFrames = 1 + Math.floor(samples / HOP);
      const audio = halfSilent(samples, samples);
      fed.length = 0;
      const f0 = await rmvpePitch(spy, audio, melFrames);
      assert.deepEqual(fed, [[1, 128, 32 * Math.ceil(melFrames / 32)]], `${samples} samples`);
      assert.equal(f0.length, melFrames);
      // voiced up to the last frame: the trim keeps the model's frames for the audio, not the padding's
      for (let t = 0; t < melFrames; t++)
        assert.ok(Math.abs(f0[t]! - DOUBLE_F0) / DOUBLE_F0 < 0.005, `${samples} samples, frame ${t}: ${f0[t]}`);
      // what the converter asks for (⌊N/160⌋ frames, one fewer than the mel has) is cut, a longer request zero-filled
      const fewer = await rmvpePitch(spy, audio, melFrames - 1);
      assert.deepEqual(Array.from(fewer), Array.from(f0.subarray(0, melFrames - 1)));
      const more = await rmvpePitch(spy, audio, melFrames + 3);
      assert.deepEqual(Array.from(more.subarray(melFrames)), [0, 0, 0]);
    }
  });

  it('refuses audio too short for one RMVPE window with a clear error', async () => {
    await assert.rejects(
      rmvpePitch(session, new Float32Array(400), 3),
      (e: unknown) => e instanceof UserError && /too short for RMVPE/.test(e.message),
    );
  });
});

describe('inference: conversion with f0 from RMVPE (test double of the RMVPE model)', function () {
  let tmp: ReturnType<typeof makeTempDir>;
  let input: string;
  before(function () {
    requireFixtures(this);
    tmp = makeTempDir();
    input = path.join(tmp.dir, 'half silent.wav');
    // 2.5 s at 44.1 kHz, so the converter resamples before RMVPE sees it; the second half silent
    const rate = 44100;
    const x = new Float32Array(Math.round(2.5 * rate));
    for (let i = 0; i < rate * 1.25; i++) {
      const phase = (2 * Math.PI * 150 * i) / rate;
      x[i] = 0.4 * (Math.sin(phase) + 0.3 * Math.sin(2 * phase) + 0.1 * Math.sin(3 * phase));
    }
    writeWav16(input, floatToInt16(x), rate);
  });
  after(() => tmp?.cleanup());

  const params = (overrides: Partial<ConvertParams>): ConvertParams => ({
    ...CONVERT_DEFAULTS,
    modelPath: fx.modelNoNoise,
    inputPath: input,
    outputPath: path.join(tmp.dir, 'out.wav'),
    modelSampleRate: 40000,
    contentVecPath: fx.contentVec,
    seed: 3,
    ...overrides,
  });

  it('converts with rmvpePath set: a WAV of RVC’s length at 40 kHz, no NaN, different from the YIN path', async () => {
    const converter = new VoiceConverter();
    try {
      const viaRmvpe = await converter.convert(
        params({ f0Method: 'rmvpe', rmvpePath: rmvpeDouble, outputPath: path.join(tmp.dir, 'rmvpe.wav') }),
      );
      const wav = readWav(viaRmvpe.outputPath);
      assert.equal(wav.sampleRate, 40000);
      assert.equal(wav.samples.length, RVC_2_5S_AT_40K);
      assert.ok(wav.samples.every((v) => Number.isFinite(v)));
      assert.ok(
        wav.samples.some((v) => Math.abs(v) > 0.01),
        'output is not silent',
      );
      assert.ok(viaRmvpe.stages.f0 > 0);
      // the no-noise model with the same seed is deterministic, so a difference is the f0 source
      const viaYin = await converter.convert(params({ f0Method: 'yin', rmvpePath: null, outputPath: path.join(tmp.dir, 'yin.wav') }));
      const yin = readWav(viaYin.outputPath).samples;
      assert.equal(yin.length, wav.samples.length);
      let differing = 0;
      for (let i = 0; i < yin.length; i++) if (yin[i] !== wav.samples[i]) differing++;
      assert.ok(differing > 1000, `only ${differing} samples differ between the RMVPE and YIN paths`);
    } finally {
      await converter.dispose();
    }
  });

  it('a model of another kind given as RMVPE fails with one clear UserError before any audio work', async () => {
    const converter = new VoiceConverter();
    try {
      const stages: string[] = [];
      await assert.rejects(
        converter.convert(params({ f0Method: 'rmvpe', rmvpePath: fx.contentVec }), { onProgress: (p) => stages.push(p.stage) }),
        (e: unknown) =>
          e instanceof UserError &&
          /vec-768-layer-12\.standin\.onnx is not an RMVPE pitch model \(input "source" is \[1,1,n_samples\], not a \[1,128,T\] log-mel/.test(
            e.message,
          ) &&
          !e.message.includes('\n'),
      );
      assert.deepEqual(stages, []);
      // the same converter still converts with the right model afterwards
      const ok = await converter.convert(
        params({ f0Method: 'rmvpe', rmvpePath: rmvpeDouble, outputPath: path.join(tmp.dir, 'after.wav') }),
      );
      assert.equal(readWav(ok.outputPath).samples.length, RVC_2_5S_AT_40K);
    } finally {
      await converter.dispose();
    }
  });

  it('rmvpePitch itself refuses a session of another kind with the same clear error', async () => {
    const vec = await openSession(fx.contentVec, { threads: 1 });
    try {
      await assert.rejects(
        rmvpePitch(vec, halfSilent(16000, 16000), 101),
        (e: unknown) => e instanceof UserError && /The model given as RMVPE is not an RMVPE pitch model/.test(e.message),
      );
    } finally {
      await vec.release();
    }
  });
});
