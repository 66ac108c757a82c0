import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeTo16kMono } from '../../../src/core/inference/audio16k.ts';
import { readWav, wavHeader16 } from '../../../src/core/inference/wavFile.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { makeTempDir } from '../../support/tempDir.ts';

/** A WAV file with the given fmt fields and raw sample bytes. */
function wav(format: number, channels: number, rate: number, bits: number, data: Buffer, extensible = false): Buffer {
  const fmtSize = extensible ? 40 : 16;
  const fmt = Buffer.alloc(8 + fmtSize);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(fmtSize, 4);
  fmt.writeUInt16LE(extensible ? 0xfffe : format, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 16);
  fmt.writeUInt16LE((channels * bits) / 8, 20);
  fmt.writeUInt16LE(bits, 22);
  if (extensible) fmt.writeUInt16LE(format, 32);
  const list = Buffer.from('LIST\x04\x00\x00\x00INFO', 'latin1'); // an unrelated chunk to skip
  const head = Buffer.alloc(8);
  head.write('data', 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), fmt, list, head, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe('inference: WAV decoding', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(() => tmp.cleanup());
  const write = (name: string, bytes: Buffer): string => {
    const file = path.join(tmp.dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it('decodes PCM 8/16/24/32-bit and float32, mono and stereo (mixed to mono), any rate', () => {
    const values = [0, 0.5, -0.5, -1];
    const cases: [string, number, number, (v: number, b: Buffer, at: number) => void][] = [
      ['u8', 1, 8, (v, b, at) => b.writeUInt8(Math.round(v * 128 + 128) & 0xff, at)],
      ['s16', 1, 16, (v, b, at) => b.writeInt16LE(Math.max(-32768, Math.round(v * 32768)), at)],
      ['s24', 1, 24, (v, b, at) => b.writeIntLE(Math.max(-8388608, Math.round(v * 8388608)), at, 3)],
      ['s32', 1, 32, (v, b, at) => b.writeInt32LE(Math.max(-2147483648, Math.round(v * 2147483648)), at)],
      ['f32', 3, 32, (v, b, at) => b.writeFloatLE(v, at)],
    ];
    for (const [name, format, bits, put] of cases) {
      const bytes = bits / 8;
      for (const channels of [1, 2]) {
        const data = Buffer.alloc(values.length * channels * bytes);
        values.forEach((v, i) => {
          put(v, data, i * channels * bytes);
          if (channels === 2) put(0, data, (i * channels + 1) * bytes);
        });
        const decoded = readWav(write(`${name}-${channels}.wav`, wav(format, channels, 22050, bits, data, name === 's24')), {});
        assert.equal(decoded.sampleRate, 22050);
        assert.equal(decoded.samples.length, 4);
        values.forEach((v, i) =>
          assert.ok(Math.abs(decoded.samples[i]! - v / channels) < 1e-2, `${name} ch${channels} [${i}] = ${decoded.samples[i]}`),
        );
      }
    }
  });

  it('refuses not-audio, zero-length and compressed input with one clear line', () => {
    const notAudio = write('notes.wav', Buffer.from('this is not audio at all, just text'));
    assert.throws(
      () => decodeTo16kMono(notAudio, { ffmpeg: path.join(tmp.dir, 'no-ffmpeg-here') }),
      (e: unknown) => e instanceof UserError && /not a WAV file and ffmpeg is not on PATH/.test(e.message),
    );
    const empty = write('empty.wav', Buffer.alloc(0));
    assert.throws(
      () => decodeTo16kMono(empty),
      (e: unknown) => e instanceof UserError && /empty \(0 bytes\)/.test(e.message),
    );
    const noSamples = write('nosamples.wav', Buffer.concat([wavHeader16(0, 16000)]));
    assert.throws(
      () => decodeTo16kMono(noSamples),
      (e: unknown) => e instanceof UserError && /zero-length/.test(e.message),
    );
    const adpcm = write('adpcm.wav', wav(2, 1, 16000, 4, Buffer.alloc(16)));
    assert.throws(
      () => decodeTo16kMono(adpcm),
      (e: unknown) => e instanceof UserError && /compressed WAV/.test(e.message),
    );
  });

  it('refuses a 3-hour file from its header, before reading its data', () => {
    // The header claims 3 h of 44.1 kHz stereo 16-bit (1.9 GB); the file itself is 1 KB.
    const header = wav(1, 2, 44100, 16, Buffer.alloc(0));
    header.writeUInt32LE(3 * 3600 * 44100 * 4, header.length - 4);
    const file = write('long.wav', Buffer.concat([header, Buffer.alloc(1024)]));
    assert.throws(
      () => readWav(file, { maxSeconds: 600 }),
      (e: unknown) => e instanceof UserError && e.code === 'audio-too-long' && /lasts 3:00:00; the limit is 0:10:00/.test(e.message),
    );
  });
});
