import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { msg, UserError, isMissingFile } from '../util/errors.ts';
import { ANALYSIS_RATE } from './analysisGrid.ts';
import { resampleChannels } from './resampler.ts';
import { formatDuration, isWav, parseWavLayout, type WavLayout } from './wavFile.ts';

/**
 * The conversion's input as RVC's `load_audio` gets it: `ffmpeg -i F -f f32le -ac 1 -acodec
 * pcm_f32le -ar 16000 -`. A mono or stereo WAV is decoded here the way ffmpeg's WAV decoder and
 * libswresample treat it (samples to float as ffmpeg converts them, stereo folded to mono at
 * √½ each with no normalisation, the fold before or after resampling as swresample orders it),
 * so no ffmpeg is needed; anything else goes through the ffmpeg CLI with RVC's own arguments.
 */
export interface Audio16k {
  audio: Float32Array;
  sourceRate: number;
  channels: number;
  /** The input's duration. */
  seconds: number;
}

const HEADER_PROBE = 1 << 16;

export function decodeTo16kMono(file: string, options: { maxSeconds?: number; ffmpeg?: string } = {}): Audio16k {
  const head = readHead(file);
  if (isWav(head)) {
    const layout = parseWavLayout(head, file);
    // ffmpeg's rematrix for more than two channels and its 8-bit path are not reproduced here.
    if (layout.channels <= 2 && layout.bitsPerSample !== 8) return decodeWav(file, layout, options.maxSeconds);
    return decodeWithFfmpeg(
      file,
      options,
      `is a ${layout.channels}-channel ${layout.bitsPerSample}-bit WAV that only ffmpeg mixes as RVC does`,
    );
  }
  return decodeWithFfmpeg(file, options, 'is not a WAV file');
}

function readHead(file: string): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    throw new UserError(msg`Input audio ${file} does not exist.`, 'not-found');
  }
  if (!stat.isFile()) throw new UserError(msg`Input audio ${file} is not a file.`, 'not-a-file');
  if (stat.size === 0) throw new UserError(msg`${file} is empty (0 bytes).`, 'empty-audio');
  const head = Buffer.alloc(Math.min(stat.size, HEADER_PROBE));
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return head;
}

function checkLength(file: string, seconds: number, maxSeconds: number | undefined): void {
  if (maxSeconds !== undefined && seconds > maxSeconds)
    throw new UserError(
      msg`${file} lasts ${formatDuration(seconds)}; the limit is ${formatDuration(maxSeconds)} (setting rvcStudio.inference.maxSeconds) — split it first.`,
      'audio-too-long',
    );
}

/** One array per channel, each sample as ffmpeg's sample-format conversion makes it. */
function readChannels(file: string, layout: WavLayout, maxSeconds: number | undefined): Float32Array[] | Float64Array[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = layout.bitsPerSample / 8;
    const blockAlign = bytes * layout.channels;
    const available = Math.max(0, size - layout.dataOffset);
    const declared = layout.dataBytes < 0 ? available : layout.dataBytes;
    checkLength(file, Math.floor(declared / blockAlign) / layout.sampleRate, maxSeconds);
    const frames = Math.floor(Math.min(declared, available) / blockAlign);
    if (frames === 0) throw new UserError(msg`${file} holds no samples (zero-length audio).`, 'empty-audio');
    const data = Buffer.alloc(frames * blockAlign);
    fs.readSync(fd, data, 0, data.length, layout.dataOffset);
    const wide = layout.format === 'float' && layout.bitsPerSample === 64;
    const read = sampleReader(data, layout);
    return Array.from({ length: layout.channels }, (_, ch) => {
      const out = wide ? new Float64Array(frames) : new Float32Array(frames);
      for (let f = 0; f < frames; f++) out[f] = read(f * blockAlign + ch * bytes);
      return out;
    }) as Float32Array[] | Float64Array[];
  } finally {
    fs.closeSync(fd);
  }
}

/** s16 × 2⁻¹⁵; 24-bit arrives as s32 (<< 8); s32 × 2⁻³¹ rounded to float first, as ffmpeg's conversion does. */
function sampleReader(data: Buffer, { format, bitsPerSample }: WavLayout): (at: number) => number {
  if (format === 'float') return bitsPerSample === 32 ? (at) => data.readFloatLE(at) : (at) => data.readDoubleLE(at);
  if (bitsPerSample === 16) return (at) => data.readInt16LE(at) / 32768;
  if (bitsPerSample === 24) return (at) => Math.fround(data.readIntLE(at, 3) * 256) / 2147483648;
  return (at) => Math.fround(data.readInt32LE(at)) / 2147483648;
}

/** ffmpeg's -ac 1 of stereo: FL and FR into FC at M_SQRT1_2 each, in the internal format's precision. */
function foldStereo(channels: Float32Array[] | Float64Array[], single: boolean): Float32Array[] | Float64Array[] {
  if (channels.length === 1) return channels;
  const [left, right] = channels as Float32Array[];
  const gain = single ? Math.fround(Math.SQRT1_2) : Math.SQRT1_2;
  const mono = single ? new Float32Array(left!.length) : new Float64Array(left!.length);
  for (let i = 0; i < mono.length; i++) mono[i] = left![i]! * gain + right![i]! * gain;
  return [mono] as Float32Array[] | Float64Array[];
}

function decodeWav(file: string, layout: WavLayout, maxSeconds: number | undefined): Audio16k {
  const channels = readChannels(file, layout, maxSeconds);
  const single = channels[0] instanceof Float32Array;
  const precision = single ? 'float' : 'double';
  const frames = channels[0]!.length;
  // swresample's resample_first: fold after resampling only when that is less work (upsampling by more than 2×… here: below 32 kHz).
  const resampleFirst = layout.channels > 1 && 1 / layout.channels - 1 < ANALYSIS_RATE / layout.sampleRate - 1;
  const resampled = resampleFirst
    ? foldStereo(resampleChannels(channels, layout.sampleRate, ANALYSIS_RATE, precision), single)
    : resampleChannels(foldStereo(channels, single), layout.sampleRate, ANALYSIS_RATE, precision);
  return {
    audio: Float32Array.from(resampled[0]!),
    sourceRate: layout.sampleRate,
    channels: layout.channels,
    seconds: frames / layout.sampleRate,
  };
}

function decodeWithFfmpeg(file: string, options: { maxSeconds?: number; ffmpeg?: string }, why: string): Audio16k {
  const ffmpeg = options.ffmpeg ?? 'ffmpeg';
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-threads', '0', '-i', file];
  if (options.maxSeconds !== undefined) args.push('-t', String(options.maxSeconds + 1));
  args.push('-f', 'f32le', '-ac', '1', '-acodec', 'pcm_f32le', '-ar', String(ANALYSIS_RATE), '-');
  const result = spawnSync(ffmpeg, args, { maxBuffer: 4 * 1024 * 1024 * 1024, encoding: 'buffer' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new UserError(msg`${file} ${why} and ffmpeg is not on PATH; convert it to WAV or install ffmpeg.`, 'not-audio');
  if (result.status !== 0 || !result.stdout) {
    const reason = result.stderr?.toString('utf8').trim().split('\n').pop() ?? 'no output';
    throw new UserError(msg`${file} is not audio ffmpeg can decode (${reason}).`, 'not-audio');
  }
  const audio = new Float32Array(Math.floor(result.stdout.length / 4));
  for (let i = 0; i < audio.length; i++) audio[i] = result.stdout.readFloatLE(4 * i);
  if (audio.length === 0) throw new UserError(msg`${file} holds no samples (zero-length audio).`, 'empty-audio');
  // ffmpeg stopped one second past the limit (-t), so the length it gave is not the file's.
  if (options.maxSeconds !== undefined && audio.length / ANALYSIS_RATE > options.maxSeconds)
    throw new UserError(
      msg`${file} is longer than the limit of ${formatDuration(options.maxSeconds)} (setting rvcStudio.inference.maxSeconds) — split it first.`,
      'audio-too-long',
    );
  return { audio, sourceRate: ANALYSIS_RATE, channels: 1, seconds: audio.length / ANALYSIS_RATE };
}
