import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { UserError, isMissingFile } from '../util/errors.ts';
import { isWav, parseWavLayout, readWav, type DecodedAudio, type ReadWavOptions } from './wavFile.ts';

/**
 * Loads any audio file as mono float samples: WAV in TypeScript, anything else through `ffmpeg` on
 * PATH (argument array, no shell), which writes 32-bit float WAV to stdout at the file's own rate
 * and channel count. The channels are averaged here, as the WAV reader does: ffmpeg's own `-ac 1`
 * sums stereo at 1/√2 each, so a FLAC would come out 3 dB louder than the same audio as WAV.
 */
export function loadAudio(file: string, options: ReadWavOptions & { ffmpeg?: string } = {}): DecodedAudio {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    throw new UserError(`Input audio ${file} does not exist.`, 'not-found');
  }
  if (!stat.isFile()) throw new UserError(`Input audio ${file} is not a file.`, 'not-a-file');
  if (stat.size === 0) throw new UserError(`${file} is empty (0 bytes).`, 'empty-audio');
  const head = Buffer.alloc(Math.min(12, stat.size));
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (isWav(head)) return readWav(file, options);
  return decodeWithFfmpeg(file, options);
}

function decodeWithFfmpeg(file: string, options: ReadWavOptions & { ffmpeg?: string }): DecodedAudio {
  const ffmpeg = options.ffmpeg ?? 'ffmpeg';
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-vn', '-f', 'wav', '-acodec', 'pcm_f32le', 'pipe:1'];
  if (options.maxSeconds !== undefined) args.splice(args.indexOf('-vn'), 0, '-t', String(options.maxSeconds + 1));
  const result = spawnSync(ffmpeg, args, { maxBuffer: 4 * 1024 * 1024 * 1024, encoding: 'buffer' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new UserError(`${file} is not a WAV file and ffmpeg is not on PATH; convert it to WAV or install ffmpeg.`, 'not-audio');
  }
  if (result.status !== 0 || !result.stdout || result.stdout.length < 44) {
    const reason = result.stderr?.toString('utf8').trim().split('\n').pop() ?? 'no output';
    throw new UserError(`${file} is not audio ffmpeg can decode (${reason}).`, 'not-audio');
  }
  // A piped WAV has no length in its header; the samples run to the end of stdout.
  const decoded = readWavBuffer(result.stdout, file);
  if (options.maxSeconds !== undefined && decoded.samples.length / decoded.sampleRate > options.maxSeconds) {
    throw new UserError(
      `${file} is longer than the limit of ${options.maxSeconds} s (setting rvcStudio.inference.maxSeconds) — split it first.`,
      'audio-too-long',
    );
  }
  return decoded;
}

function readWavBuffer(buf: Buffer, name: string): DecodedAudio {
  const layout = parseWavLayout(buf, name);
  const channels = layout.channels;
  const frames = Math.floor((buf.length - layout.dataOffset) / (4 * channels));
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    const base = layout.dataOffset + f * channels * 4;
    let sum = 0;
    for (let ch = 0; ch < channels; ch++) sum += buf.readFloatLE(base + ch * 4);
    samples[f] = sum / channels;
  }
  if (frames === 0) throw new UserError(`${name} holds no samples (zero-length audio).`, 'empty-audio');
  return { samples, sampleRate: layout.sampleRate, channels, bitsPerSample: 32, format: 'float' };
}

// The conversion's 16 kHz input (RVC's load_audio) lives in audio16k.ts.
export { decodeTo16kMono } from './audio16k.ts';
