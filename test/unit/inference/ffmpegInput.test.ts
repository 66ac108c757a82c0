import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeTo16kMono } from '../../../src/core/inference/audio16k.ts';
import { wavHeader16 } from '../../../src/core/inference/wavFile.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { makeTempDir } from '../../support/tempDir.ts';

/** Why ffmpeg cannot be used here, or null when it can. */
function ffmpegMissing(): string | null {
  const probe = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
  if (probe.error) return `ffmpeg is not on PATH (${(probe.error as NodeJS.ErrnoException).code}); .ci/setup installs Debian's ffmpeg`;
  if (probe.status !== 0) return `ffmpeg -version exited ${probe.status}`;
  return null;
}

function ffmpeg(args: string[]): void {
  const run = spawnSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(run.status, 0, `ffmpeg ${args.join(' ')}: ${run.stderr}`);
}

/** A 16-bit WAV of a tone with harmonics, deterministic, `channels` interleaved (the right channel a fifth up). */
function writeToneWav(file: string, seconds: number, rate: number, channels: 1 | 2): number {
  const frames = Math.round(seconds * rate);
  const pcm = new Int16Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let ch = 0; ch < channels; ch++) {
      const phase = (2 * Math.PI * (220 * (ch === 0 ? 1 : 1.5)) * i) / rate;
      pcm[i * channels + ch] = Math.round(9000 * (Math.sin(phase) + 0.3 * Math.sin(2 * phase)));
    }
  }
  fs.writeFileSync(file, Buffer.concat([wavHeader16(frames, rate, channels), Buffer.from(pcm.buffer)]));
  return frames;
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / (to - from));
}

describe('inference: non-WAV input through ffmpeg', function () {
  let tmp: ReturnType<typeof makeTempDir>;
  before(function () {
    const missing = ffmpegMissing();
    if (missing) {
      console.warn(`SKIP: ${missing}, so the FLAC/MP3 input tests cannot run.`);
      this.skip();
    }
    tmp = makeTempDir();
  });
  after(() => tmp?.cleanup());

  // A lossless file through ffmpeg must give what our own WAV path gives for the WAV it came from.
  for (const [rate, channels] of [
    [44100, 1],
    [48000, 2],
  ] as const) {
    it(`FLAC (${rate} Hz, ${channels === 1 ? 'mono' : 'stereo'}) through ffmpeg equals its WAV through our decoder, within 1e-6`, () => {
      const wav = path.join(tmp.dir, `tone-${rate}-${channels}.wav`);
      const flac = path.join(tmp.dir, `tone-${rate}-${channels}.flac`);
      writeToneWav(wav, 1.5, rate, channels);
      ffmpeg(['-i', wav, '-c:a', 'flac', flac]);
      const viaFfmpeg = decodeTo16kMono(flac);
      const ours = decodeTo16kMono(wav);
      assert.equal(ours.channels, channels);
      assert.equal(viaFfmpeg.audio.length, ours.audio.length);
      let worst = 0;
      for (let i = 0; i < ours.audio.length; i++) worst = Math.max(worst, Math.abs(viaFfmpeg.audio[i]! - ours.audio[i]!));
      assert.ok(worst <= 1e-6, `max abs diff ${worst}`);
    });
  }

  it('decodes MP3 to 16 kHz, as long as the input within one frame plus the codec delay, at the same level', () => {
    const wav = path.join(tmp.dir, 'tone for mp3.wav');
    const mp3 = path.join(tmp.dir, 'tone.mp3');
    writeToneWav(wav, 2, 44100, 1);
    // at 128k LAME scaled this tone by 0.95; at 320k it keeps the level, so the level check can be tight
    ffmpeg(['-i', wav, '-c:a', 'libmp3lame', '-b:a', '320k', mp3]);
    const decoded = decodeTo16kMono(mp3).audio;
    const reference = decodeTo16kMono(wav).audio;
    // an MPEG-1 layer III frame is 1152 samples; LAME's encoder delay is 576 + 529 (at 44.1 kHz)
    const tolerance = Math.ceil(((1152 + 576 + 529) * 16000) / 44100);
    assert.ok(Math.abs(decoded.length - reference.length) <= tolerance, `${decoded.length} samples for ${reference.length}`);
    const [a, b] = [rms(reference, 1600, reference.length - 1600), rms(decoded, 1600, reference.length - 1600)];
    assert.ok(Math.abs(b - a) / a < 0.05, `rms ${b} against ${a}`);
    assert.ok(decoded.every((v) => Number.isFinite(v)));
  });

  it("a file ffmpeg cannot decode is 'not audio ffmpeg can decode', in one line", () => {
    const junk = path.join(tmp.dir, 'song.mp3');
    fs.writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)));
    assert.throws(
      () => decodeTo16kMono(junk),
      (e: unknown) =>
        e instanceof UserError && e.message.startsWith(`${junk} is not audio ffmpeg can decode (`) && !e.message.includes('\n'),
    );
  });

  it('refuses a FLAC longer than maxSeconds with the setting named', () => {
    const wav = path.join(tmp.dir, 'long.wav');
    const flac = path.join(tmp.dir, 'long.flac');
    writeToneWav(wav, 4, 16000, 1);
    ffmpeg(['-i', wav, '-c:a', 'flac', flac]);
    assert.throws(
      () => decodeTo16kMono(flac, { maxSeconds: 2 }),
      (e: unknown) =>
        e instanceof UserError && /longer than the limit of 0:00:02 \(setting rvcStudio\.inference\.maxSeconds\)/.test(e.message),
    );
    assert.equal(decodeTo16kMono(flac, { maxSeconds: 5 }).audio.length, 64000);
  });
});

describe('inference: non-WAV input without ffmpeg', function () {
  let tmp: ReturnType<typeof makeTempDir>;
  before(() => (tmp = makeTempDir()));
  after(() => tmp.cleanup());

  it('says to convert to WAV or install ffmpeg when the ffmpeg it would run does not exist', () => {
    const flac = path.join(tmp.dir, 'voice.flac');
    fs.writeFileSync(flac, Buffer.from('fLaC\0\0\0\x22 not really flac'));
    assert.throws(
      () => decodeTo16kMono(flac, { ffmpeg: path.join(tmp.dir, 'no-such-ffmpeg') }),
      (e: unknown) =>
        e instanceof UserError && /is not a WAV file and ffmpeg is not on PATH; convert it to WAV or install ffmpeg\./.test(e.message),
    );
  });
});
