import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VoiceConverter } from '../../../src/core/inference/voiceConverter.ts';
import { CONVERT_DEFAULTS, type ConvertParams } from '../../../src/protocol/inferenceWorkerProtocol.ts';
import { env20ms, hp40SnrDb, lsbDiff, maxRelDiff, snrDb } from '../../support/audioMetrics.ts';
import { cliAsync, makeTempDir } from '../../support/tempDir.ts';
import { maxAbsDiff } from './fixtures.ts';
import { f32bin, fid, fidelityCases, npy, pcm16, requireFidelityFixture, type FidelityCase } from './rvcFidelity.fixtures.ts';

/**
 * End to end from the WAV: `rvc-studio infer`'s converter with RVC's settings for each recorded
 * case (noise off, as the references were made; harvest from RVC's recorded WORLD output through
 * --f0-raw, since WORLD is not built in), every stage dumped with --dump-stages and compared, and
 * the written WAV against the one RVC's WebUI returned.
 */
function paramsFor(c: FidelityCase, dir: string): ConvertParams {
  const harvest = c.params.f0_method === 'harvest';
  return {
    ...CONVERT_DEFAULTS,
    modelPath: fid.pth,
    exportDir: path.join(dir, 'exports'),
    inputPath: fid.wav,
    outputPath: path.join(dir, `${c.id}.wav`),
    modelSampleRate: 0,
    contentVecPath: fid.contentVec,
    f0Method: c.params.f0_method,
    rmvpePath: harvest ? null : fid.rmvpe,
    f0RawPath: harvest ? fid.inCase(c.id, 'f0_raw_before_key.f64.npy') : null,
    transpose: c.params.f0_up_key,
    indexPath: fid.index,
    indexRate: c.params.index_rate,
    filterRadius: c.params.filter_radius,
    rmsMixRate: c.params.rms_mix_rate,
    protect: c.params.protect,
    sid: c.params.sid,
    seed: 1,
    threads: 1,
    noNoise: true,
    dumpStagesDir: path.join(dir, c.id),
  };
}

describe('RVC fidelity end to end: the WAV through our converter vs RVC WebUI 20240604 vc_single (rvc-fidelity)', function () {
  this.timeout(180_000);
  const temp = makeTempDir();
  const converter = new VoiceConverter();

  before(function () {
    requireFidelityFixture(this);
  });
  after(async () => {
    await converter.dispose();
    temp.cleanup();
  });

  for (const c of fidelityCases()) {
    it(`${c.id}: n_out exact, out.wav ≥ 99.9 % identical (≤ 1 LSB), every dumped stage within the fixture's tolerance`, async () => {
      const params = paramsFor(c, temp.dir);
      const result = await converter.convert(params);
      const stage = (name: string): Float64Array => npy(path.join(params.dumpStagesDir!, name));
      assert.equal(result.outputSamples, c.n_out, 'n_out');
      assert.equal(result.chunks, c.chunks.length, 'chunks');

      const audio16k = maxAbsDiff(stage('audio16k.f32.npy'), npy(fid.perInput('audio16k.f32.npy')));
      const audioPad = maxAbsDiff(stage('audio_pad.f32.npy'), npy(fid.perInput('audio_pad.f32.npy')));
      const f0Rel = maxRelDiff(npy(fid.inCase(c.id, 'f0_after_key.f64.npy')), stage('f0_after_key.f64.npy'));
      const coarseRef = npy(fid.inCase(c.id, 'f0_coarse.i32.npy'));
      const coarseOff = stage('f0_coarse.i32.npy').filter((v, i) => v !== coarseRef[i]).length;
      const feats = maxAbsDiff(stage('chunk0_feats_before_index.f32.npy'), npy(fid.perInput('chunk0_feats_before_index.f32.npy')));
      const phone = maxAbsDiff(stage('chunk0_phone.f32.npy'), npy(fid.perInput(`${c.params.f0_method}_chunk0_phone.f16.npy`)));
      const ref = f32bin(fid.inCase(c.id, 'out.f32.bin'));
      const out = stage('out.f32.npy');
      const hp = hp40SnrDb(ref, out, c.tgt_sr);
      const full = snrDb(ref, out);
      const env = env20ms(ref, out, c.tgt_sr);
      const wav = lsbDiff(pcm16(fid.inCase(c.id, 'out.wav')), pcm16(params.outputPath));
      // The per-stage table of the closing note comes from these lines.
      console.log(
        `      ${c.id}: audio16k ${audio16k.toExponential(1)}, audio_pad ${audioPad.toExponential(1)}, f0 rel ${f0Rel.toExponential(1)}, coarse off ${coarseOff}, ` +
          `feats ${feats.toExponential(1)}, phone ${phone.toExponential(1)}, out hp40 ${hp.toFixed(1)} dB, full ${full.toFixed(1)} dB, env p95 ${env.p95.toFixed(4)} dB, ` +
          `wav ${(wav.identical * 100).toFixed(3)} % identical, max ${wav.maxLsb} LSB`,
      );
      assert.ok(audio16k <= 1e-6, `audio16k max |Δ| ${audio16k}`);
      assert.ok(audioPad <= 1e-5, `audio_pad max |Δ| ${audioPad}`);
      assert.ok(f0Rel <= 1e-5, `f0 rel ${f0Rel}`);
      assert.equal(coarseOff, 0, 'coarse pitch frames off');
      assert.ok(feats <= 1e-4, `features max |Δ| ${feats}`);
      assert.ok(phone <= 3e-3, `phone max |Δ| ${phone}`);
      assert.ok(hp >= 60 && env.p95 <= 0.01, `out.f32 hp40 ${hp} dB, env p95 ${env.p95} dB`);
      assert.ok(
        wav.identical >= 0.999 && wav.maxLsb <= 1,
        `out.wav ${(wav.identical * 100).toFixed(3)} % identical, max ${wav.maxLsb} LSB`,
      );
      assert.ok(fs.existsSync(path.join(params.dumpStagesDir!, 'chunk0_synth.f32.npy')));
    });
  }

  it('the same through `rvc-studio infer` with RVC’s settings as flags (harvest from its recorded f0, --no-noise, --dump-stages); an F0 curve file changes the pitch from 1 s on', async function () {
    const c = fidelityCases().find((x) => x.id === 'tenor48_harvest_k+0');
    if (!c) this.skip();
    const ws = path.join(temp.dir, 'cli-ws');
    fs.mkdirSync(ws, { recursive: true });
    const out = path.join(ws, 'cli.wav');
    const stages = path.join(ws, 'stages');
    const args = ['--workspace', ws, 'infer', '--model', fid.pth, '--input', fid.wav, '--contentvec', fid.contentVec, '--index', fid.index];
    args.push(
      '--f0-method',
      'harvest',
      '--f0-raw',
      fid.inCase(c!.id, 'f0_raw_before_key.f64.npy'),
      '--index-rate',
      '0.75',
      '--filter-radius',
      '3',
    );
    args.push('--rms-mix-rate', '0.25', '--protect', '0.33', '--threads', '1', '--no-noise', '--json');
    const run = await cliAsync([...args, '--output', out, '--dump-stages', stages]);
    assert.equal(run.status, 0, run.stderr);
    const wav = lsbDiff(pcm16(fid.inCase(c!.id, 'out.wav')), pcm16(out));
    assert.ok(wav.identical >= 0.999 && wav.maxLsb <= 1, `${(wav.identical * 100).toFixed(3)} % identical, max ${wav.maxLsb} LSB`);
    assert.ok(fs.existsSync(path.join(stages, 'f0_medfilt_before_key.f64.npy')));

    const curve = path.join(ws, 'f0.txt');
    fs.writeFileSync(curve, '0,300\n0.5,300\n');
    const curved = await cliAsync([
      ...args,
      '--output',
      path.join(ws, 'curved.wav'),
      '--dump-stages',
      path.join(ws, 'curved'),
      '--f0-file',
      curve,
    ]);
    assert.equal(curved.status, 0, curved.stderr);
    const f0 = npy(path.join(ws, 'curved', 'f0_after_key.f64.npy'));
    assert.deepEqual(Array.from(f0.subarray(100, 151)), new Array<number>(51).fill(300));
    assert.equal(f0[99], npy(fid.inCase(c!.id, 'f0_after_key.f64.npy'))[99]);
    const bad = await cliAsync([...args, '--output', path.join(ws, 'bad.wav'), '--f0-file', path.join(ws, 'missing.txt')]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /F0 curve file .*missing\.txt does not exist/);
  });
});
