import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { readIvfFlatIndex } from '../../../src/core/inference/faissIndex.ts';
import { shapeF0 } from '../../../src/core/inference/f0Stage.ts';
import { rvcHighPass } from '../../../src/core/inference/highPass.ts';
import { onnxRuntime, openSession, type OrtSession } from '../../../src/core/inference/onnxRuntime.ts';
import { buildPhone, contentVecFeatures, retrieve, type RetrievalIndex } from '../../../src/core/inference/phoneStage.ts';
import { rmvpeLogMel, rmvpePitch } from '../../../src/core/inference/rmvpePitch.ts';
import { mixRms } from '../../../src/core/inference/rmsMix.ts';
import { reflectPad } from '../../../src/core/inference/rvcChunking.ts';
import { toInt16 } from '../../../src/core/inference/rvcLevels.ts';
import { exportRvcModel } from '../../../src/core/models/onnx/rvcExporter.ts';
import { openRvcModel } from '../../../src/core/models/rvcCheckpoint.ts';
import { env20ms, hp40SnrDb, lsbDiff, maxRelDiff, snrDb } from '../../support/audioMetrics.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { maxAbsDiff } from './fixtures.ts';
import { f32bin, fid, fidelityCases, npy, pcm16, requireFidelityFixture } from './rvcFidelity.fixtures.ts';

/**
 * Each stage of our conversion fed RVC's own recorded input for it, against RVC's recorded output,
 * with the tolerances of ../shared/fixtures/rvc-fidelity/README.md: the first failing stage is
 * the bug. The end-to-end run from the WAV is rvcFidelity.test.ts.
 */
const cases = fidelityCases();
const rmvpeCase = cases.find((c) => c.id === 'tenor48_rmvpe_k+0');

function loadIndex(file: string): RetrievalIndex {
  const index = readIvfFlatIndex(file);
  const vectors = new Float32Array(index.ntotal * index.d);
  for (const list of index.lists) {
    list.ids.forEach((id, v) => vectors.set(list.vectors.subarray(v * index.d, (v + 1) * index.d), Number(id) * index.d));
  }
  return { index, vectors };
}

describe('RVC fidelity, stage by stage (../shared/fixtures/rvc-fidelity, RVC 20240604 vc_single on CPU)', function () {
  this.timeout(120_000);
  const audio16k = (): Float32Array => Float32Array.from(npy(fid.perInput('audio16k.f32.npy')));
  const refPad = (): Float64Array => npy(fid.perInput('audio_pad.f32.npy'));

  before(function () {
    requireFidelityFixture(this);
  });

  it('high-pass (filtfilt) + 1 s reflect pad: audio_pad within 1e-5', () => {
    const padded = Float32Array.from(reflectPad(rvcHighPass(audio16k()), 16000, 16000));
    const delta = maxAbsDiff(padded, refPad());
    assert.ok(delta <= 1e-5, `max |Δ| ${delta}`);
  });

  describe('RMVPE (the fixture’s RVC-architecture stand-in)', () => {
    let rmvpe: OrtSession;
    before(async () => {
      rmvpe = await openSession(fid.rmvpe, { threads: 1 });
    });
    after(async () => rmvpe?.release());

    it('log-mel within 1e-3; f0 before the key: voicing identical, rel ≤ 1e-5', async () => {
      const padded = Float32Array.from(refPad());
      const { mel } = rmvpeLogMel(padded);
      const melDelta = maxAbsDiff(mel, npy(fid.perInput('rmvpe_mel_unpadded.f32.npy')));
      assert.ok(melDelta <= 1e-3, `mel max |Δ| ${melDelta}`);
      const ref = npy(fid.inCase('tenor48_rmvpe_k+0', 'f0_raw_before_key.f64.npy'));
      const f0 = await rmvpePitch(rmvpe, padded, ref.length);
      const flips = ref.filter((v, i) => v > 0 !== f0[i]! > 0).length;
      assert.equal(flips, 0, `${flips} voicing flips`);
      const rel = maxRelDiff(ref, f0);
      assert.ok(rel <= 1e-5, `f0 rel ${rel}`);
    });
  });

  for (const c of cases) {
    it(`${c.id}: key, ${c.params.f0_method === 'harvest' ? 'medfilt(3), ' : ''}coarse pitch from RVC's raw f0`, () => {
      const raw = npy(fid.inCase(c.id, 'f0_raw_before_key.f64.npy'));
      const shaped = shapeF0(raw, {
        method: c.params.f0_method,
        transpose: c.params.f0_up_key,
        filterRadius: c.params.filter_radius,
        curve: null,
        xPad: 1,
      });
      const rel = maxRelDiff(npy(fid.inCase(c.id, 'f0_after_key.f64.npy')), shaped.f0);
      assert.ok(rel <= 1e-5, `f0 rel ${rel}`);
      assert.deepEqual(Array.from(shaped.coarse), Array.from(npy(fid.inCase(c.id, 'f0_coarse.i32.npy'))));
      // What net_g got: pitch/pitchf are [:T] of the float32 cast.
      const pitchf = npy(fid.inCase(c.id, 'chunk0_pitchf.npy'));
      assert.deepEqual(Array.from(Float32Array.from(shaped.f0.subarray(0, pitchf.length))), Array.from(Float32Array.from(pitchf)));
    });
  }

  describe('ContentVec, index, phone (one chunk)', () => {
    let vec: OrtSession;
    before(async () => {
      vec = await openSession(fid.contentVec, { threads: 1 });
    });
    after(async () => vec?.release());

    it('features within 1e-4; faiss IVF neighbours identical, distances rel ≤ 1e-4; phone within 3e-3 (rmvpe and harvest)', async () => {
      const chunk = rmvpeCase!.chunks[0]!;
      const padded = Float32Array.from(refPad());
      const feats = await contentVecFeatures(vec, padded.subarray(chunk.start, chunk.start + chunk.len), 768);
      const refFeats = Float32Array.from(npy(fid.perInput('chunk0_feats_before_index.f32.npy')));
      const featDelta = maxAbsDiff(feats.data, refFeats);
      assert.ok(featDelta <= 1e-4, `features max |Δ| ${featDelta}`);
      // From here on RVC's own features, so each stage is judged alone.
      const ref = { data: refFeats, frames: feats.frames };
      const retrieval = retrieve(loadIndex(fid.index), ref, 768, 0.75);
      const refI = npy(fid.perInput('chunk0_index_I.i64.npy'));
      const sameIds = Array.from(retrieval.ids).filter((id, i) => Number(id) === refI[i]).length;
      assert.ok(sameIds / refI.length >= 0.99, `${refI.length - sameIds} of ${refI.length} neighbour ids differ`);
      const dRel = maxRelDiff(npy(fid.perInput('chunk0_index_D.f32.npy')), retrieval.distances);
      assert.ok(dRel <= 1e-4, `distances rel ${dRel}`);
      for (const method of ['rmvpe', 'harvest'] as const) {
        const caseId = `tenor48_${method}_k+0`;
        const pitchf = Float32Array.from(npy(fid.inCase(caseId, 'chunk0_pitchf.npy')));
        const phone = buildPhone(retrieval.blended, refFeats, pitchf, 0.33, pitchf.length, 768);
        const phoneDelta = maxAbsDiff(phone, npy(fid.perInput(`${method}_chunk0_phone.f16.npy`)));
        assert.ok(phoneDelta <= 3e-3, `${method} phone max |Δ| ${phoneDelta}`);
      }
    });
  });

  describe('synthesizer (our noise-free export of tenor-48k.pth) and the steps after it', () => {
    const temp = makeTempDir();
    let synth: OrtSession;
    before(async () => {
      const model = await openRvcModel(fid.pth);
      try {
        await exportRvcModel(model, path.join(temp.dir, 'tenor.nonoise.onnx'), { noiseFree: true });
      } finally {
        await model.close();
      }
      synth = await openSession(path.join(temp.dir, 'tenor.nonoise.onnx'), { threads: 1 });
    });
    after(async () => {
      await synth?.release();
      temp.cleanup();
    });

    it("RVC's inputs in: trimmed output hp40 ≥ 80 dB, full band ≥ 120 dB against synth_concat", async () => {
      const ort = onnxRuntime();
      const id = 'tenor48_rmvpe_k+0';
      const T = rmvpeCase!.chunks[0]!.T;
      const out = await synth.run({
        phone: new ort.Tensor('float32', Float32Array.from(npy(fid.perInput('rmvpe_chunk0_phone.f16.npy'))), [1, T, 768]),
        phone_lengths: new ort.Tensor('int64', BigInt64Array.of(BigInt(T)), [1]),
        pitch: new ort.Tensor(
          'int64',
          BigInt64Array.from(npy(fid.inCase(id, 'chunk0_pitch.npy')), (v) => BigInt(v)),
          [1, T],
        ),
        pitchf: new ort.Tensor('float32', Float32Array.from(npy(fid.inCase(id, 'chunk0_pitchf.npy'))), [1, T]),
        ds: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
        rnd: new ort.Tensor('float32', new Float32Array(192 * T), [1, 192, T]),
      });
      const wave = out['audio']!.data as Float32Array;
      const trimmed = wave.slice(48000, wave.length - 48000);
      const ref = npy(fid.inCase(id, 'synth_concat.f32.npy'));
      const hp = hp40SnrDb(ref, trimmed, 48000);
      const full = snrDb(ref, trimmed);
      assert.ok(hp >= 80, `hp40 ${hp.toFixed(1)} dB`);
      // The tensors RVC fed were float32; the stored phone is float16 (README: 94–96 dB hp40, 141–143 dB full).
      assert.ok(full >= 120, `full band ${full.toFixed(1)} dB`);
    });

    for (const c of cases.filter((x) => x.id === 'tenor48_rmvpe_k+0')) {
      it(`${c.id}: rms mix + int16 from RVC's synthesizer output: out.f32 hp40 ≥ 60 dB, env p95 ≤ 0.01 dB; out.wav ≥ 99.9 % identical, ≤ 1 LSB`, () => {
        const joined = Float32Array.from(npy(fid.inCase(c.id, 'synth_concat.f32.npy')));
        mixRms(rvcHighPass(audio16k()), 16000, joined, 48000, c.params.rms_mix_rate);
        const ref = f32bin(fid.inCase(c.id, 'out.f32.bin'));
        const hp = hp40SnrDb(ref, joined, 48000);
        const env = env20ms(ref, joined, 48000);
        assert.ok(hp >= 60, `hp40 ${hp.toFixed(1)} dB`);
        assert.ok(env.p95 <= 0.01, `env20ms p95 ${env.p95} dB`);
        const wav = lsbDiff(pcm16(fid.inCase(c.id, 'out.wav')), toInt16(joined));
        assert.ok(wav.identical >= 0.999 && wav.maxLsb <= 1, `${(wav.identical * 100).toFixed(3)} % identical, max ${wav.maxLsb} LSB`);
      });
    }
  });
});
