import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAudio } from '../../../src/core/inference/audioInput.ts';
import { readWav, wavHeader16 } from '../../../src/core/inference/wavFile.ts';
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

  it('decodes FLAC sample-exact against the WAV it was encoded from (mono 44.1 kHz)', () => {
    const wav = path.join(tmp.dir, 'tone.wav');
    const flac = path.join(tmp.dir, 'tone.flac');
    writeToneWav(wav, 1.5, 44100, 1);
    ffmpeg(['-i', wav, '-c:a', 'flac', flac]);
    const reference = readWav(wav);
    const decoded = loadAudio(flac);
    assert.equal(decoded.sampleRate, 44100);
    assert.equal(decoded.channels, 1);
    assert.equal(decoded.samples.length, reference.samples.length);
    let differing = 0;
    for (let i = 0; i < decoded.samples.length; i++) if (decoded.samples[i] !== reference.samples[i]) differing++;
    assert.equal(differing, 0, 'every sample equals the WAV reader’s int16 / 32768');
  });

  it('decodes stereo FLAC to the same mono mix the WAV reader makes, at the file’s own rate (48 kHz)', () => {
    const wav = path.join(tmp.dir, 'stereo.wav');
    const flac = path.join(tmp.dir, 'stereo.flac');
    writeToneWav(wav, 1, 48000, 2);
    ffmpeg(['-i', wav, '-c:a', 'flac', flac]);
    const reference = readWav(wav);
    const decoded = loadAudio(flac);
    assert.equal(decoded.sampleRate, 48000);
    assert.equal(decoded.channels, 2);
    assert.equal(decoded.samples.length, reference.samples.length);
    // both average the channels (ffmpeg's own -ac 1 would give (L+R)/√2, 3 dB louder than the WAV)
    let worst = 0;
    for (let i = 0; i < decoded.samples.length; i++) worst = Math.max(worst, Math.abs(decoded.samples[i]! - reference.samples[i]!));
    assert.ok(worst <= 1e-6, `max abs diff ${worst}`);
  });

  it('decodes MP3 at the right rate, as long as the input within one frame plus the codec delay, at the same level', () => {
    const wav = path.join(tmp.dir, 'tone for mp3.wav');
    const mp3 = path.join(tmp.dir, 'tone.mp3');
    const frames = writeToneWav(wav, 2, 44100, 1);
    // at 128k LAME scaled this tone by 0.95; at 320k it keeps the level, so the level check can be tight
    ffmpeg(['-i', wav, '-c:a', 'libmp3lame', '-b:a', '320k', mp3]);
    const decoded = loadAudio(mp3);
    assert.equal(decoded.sampleRate, 44100);
    // an MPEG-1 layer III frame is 1152 samples; LAME's encoder delay is 576 + 529
    const tolerance = 1152 + 576 + 529;
    assert.ok(Math.abs(decoded.samples.length - frames) <= tolerance, `${decoded.samples.length} samples for ${frames}`);
    const reference = readWav(wav).samples;
    const [a, b] = [rms(reference, 4410, frames - 4410), rms(decoded.samples, 4410, frames - 4410)];
    assert.ok(Math.abs(b - a) / a < 0.05, `rms ${b} against ${a}`);
    assert.ok(decoded.samples.every((v) => Number.isFinite(v)));
  });

  it("a file ffmpeg cannot decode is 'not audio ffmpeg can decode', in one line", () => {
    const junk = path.join(tmp.dir, 'song.mp3');
    fs.writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)));
    assert.throws(
      () => loadAudio(junk),
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
      () => loadAudio(flac, { maxSeconds: 2 }),
      (e: unknown) => e instanceof UserError && /longer than the limit of 2 s \(setting rvcStudio\.inference\.maxSeconds\)/.test(e.message),
    );
    assert.equal(loadAudio(flac, { maxSeconds: 5 }).samples.length, 64000);
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
      () => loadAudio(flac, { ffmpeg: path.join(tmp.dir, 'no-such-ffmpeg') }),
      (e: unknown) =>
        e instanceof UserError && /is not a WAV file and ffmpeg is not on PATH; convert it to WAV or install ffmpeg\./.test(e.message),
    );
  });
});
