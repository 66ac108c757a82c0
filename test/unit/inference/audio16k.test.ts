import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { decodeTo16kMono } from '../../../src/core/inference/audio16k.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { maxAbsDiff } from './fixtures.ts';
import { fid, npy, requireFidelityFixture } from './rvcFidelity.fixtures.ts';

/**
 * The conversion's input must be what RVC's load_audio gets from
 * `ffmpeg -i F -f f32le -ac 1 -acodec pcm_f32le -ar 16000 -`: the ffmpeg CLI is the oracle here.
 */
const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const CODECS = { s16: 'pcm_s16le', s24: 'pcm_s24le', s32: 'pcm_s32le', flt: 'pcm_f32le' } as const;

function ffmpeg16k(file: string): Float32Array {
  const out = execFileSync(
    'ffmpeg',
    ['-nostdin', '-threads', '0', '-i', file, '-f', 'f32le', '-ac', '1', '-acodec', 'pcm_f32le', '-ar', '16000', '-'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 1 << 28,
    },
  );
  const copy = new Float32Array(out.length / 4);
  new Uint8Array(copy.buffer).set(out);
  return copy;
}

describe('inference: 16 kHz input equal to RVC’s load_audio (ffmpeg 5.1 CLI as the oracle)', function () {
  this.timeout(60_000);
  const temp = makeTempDir();
  after(() => temp.cleanup());

  it('the fidelity fixture’s 48 kHz WAV gives RVC’s recorded audio16k within 1e-6, without ffmpeg', function () {
    requireFidelityFixture(this);
    const delta = maxAbsDiff(decodeTo16kMono(fid.wav).audio, npy(fid.perInput('audio16k.f32.npy')));
    assert.ok(delta <= 1e-6, `max |Δ| ${delta}`);
  });

  const cases: [number, 1 | 2, keyof typeof CODECS][] = [
    [8000, 1, 's16'],
    [8000, 2, 's16'],
    [22050, 1, 's16'],
    [22050, 2, 's16'],
    [32000, 1, 'flt'],
    [32000, 2, 's16'],
    [44100, 1, 's16'],
    [44100, 2, 'flt'],
    [48000, 1, 'flt'],
    [48000, 2, 's16'],
    [96000, 1, 's16'],
    [96000, 2, 'flt'],
    [44100, 1, 's24'],
    [48000, 2, 's32'],
  ];
  for (const [rate, channels, format] of cases) {
    it(`${rate} Hz ${channels === 1 ? 'mono' : 'stereo'} ${format}: same length, max |Δ| ≤ 1e-6`, function () {
      if (!hasFfmpeg) {
        console.warn('SKIP: ffmpeg is not on PATH (.ci/setup installs it), so the oracle comparison cannot run.');
        this.skip();
      }
      const file = path.join(temp.dir, `in-${rate}-${channels}-${format}.wav`);
      // Pink noise plus a tone near the new Nyquist, so the filter's passband edge and stopband both count.
      execFileSync('ffmpeg', [
        ...['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `anoisesrc=d=1.5:c=pink:r=${rate}:a=0.3:seed=${rate + channels}`],
        ...['-f', 'lavfi', '-i', `sine=f=${Math.min(7600, rate / 2 - 100)}:d=1.5:r=${rate}`],
        ...['-filter_complex', `amix=inputs=2,aformat=channel_layouts=${channels === 2 ? 'stereo' : 'mono'}`, '-c:a', CODECS[format], file],
      ]);
      const ours = decodeTo16kMono(file);
      const ref = ffmpeg16k(file);
      assert.equal(ours.audio.length, ref.length);
      assert.equal(ours.channels, channels);
      const delta = maxAbsDiff(ours.audio, ref);
      assert.ok(delta <= 1e-6, `max |Δ| ${delta}`);
    });
  }

  it('other formats go through ffmpeg with RVC’s arguments; without ffmpeg, one sentence naming it', function () {
    if (!hasFfmpeg) {
      console.warn('SKIP: ffmpeg is not on PATH (.ci/setup installs it), so non-WAV decoding cannot be checked.');
      this.skip();
    }
    const flac = path.join(temp.dir, 'in.flac');
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=f=300:d=1:r=44100', flac]);
    const decoded = decodeTo16kMono(flac);
    assert.equal(maxAbsDiff(decoded.audio, ffmpeg16k(flac)), 0);
    assert.throws(
      () => decodeTo16kMono(flac, { ffmpeg: path.join(temp.dir, 'no-ffmpeg-here') }),
      (e: unknown) => e instanceof UserError && /ffmpeg is not on PATH/.test(e.message) && !e.message.includes('\n'),
    );
  });
});
