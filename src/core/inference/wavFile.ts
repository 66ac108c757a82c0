import * as fs from 'node:fs';
import { msg, UserError } from '../util/errors.ts';

/**
 * WAV read/write. Decodes PCM 8/16/24/32-bit integer and 32-bit float (also inside
 * WAVE_FORMAT_EXTENSIBLE), any channel count and any rate. Channels are averaged to mono as librosa
 * does in RVC's ONNX path (RVC WebUI's ffmpeg `-ac 1` sums them at 1/√2, a level its peak
 * normalisation mostly evens out). The header is read first so an over-long file is refused
 * before its data is loaded.
 */
export interface DecodedAudio {
  /** Mono samples in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  format: 'pcm' | 'float';
}

export interface WavLayout {
  format: 'pcm' | 'float';
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataOffset: number;
  /** Bytes of sample data the header declares (clipped to the file for reading). */
  dataBytes: number;
  frames: number;
}

const HEADER_PROBE = 1 << 16;

export function isWav(head: Uint8Array): boolean {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  return b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WAVE';
}

/** Parses the RIFF chunks up to `data`; `name` is for messages. */
export function parseWavLayout(head: Buffer, name: string): WavLayout {
  if (!isWav(head)) throw new UserError(msg`${name} is not a WAV file (no RIFF/WAVE header).`, 'not-audio');
  let offset = 12;
  let fmt: Omit<WavLayout, 'dataOffset' | 'dataBytes' | 'frames'> | null = null;
  while (offset + 8 <= head.length) {
    const id = head.toString('latin1', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 16 > head.length) break;
      let tag = head.readUInt16LE(body);
      const channels = head.readUInt16LE(body + 2);
      const sampleRate = head.readUInt32LE(body + 4);
      const bitsPerSample = head.readUInt16LE(body + 14);
      if (tag === 0xfffe && size >= 40 && body + 26 <= head.length) tag = head.readUInt16LE(body + 24);
      if (tag !== 1 && tag !== 3)
        throw new UserError(
          msg`${name} is a compressed WAV (format tag ${tag}); convert it to PCM or install ffmpeg.`,
          'unsupported-audio',
        );
      const format = tag === 3 ? 'float' : 'pcm';
      if (format === 'pcm' && ![8, 16, 24, 32].includes(bitsPerSample))
        throw new UserError(msg`${name}: ${bitsPerSample}-bit PCM is not supported (8, 16, 24 or 32).`, 'unsupported-audio');
      if (format === 'float' && bitsPerSample !== 32 && bitsPerSample !== 64)
        throw new UserError(msg`${name}: ${bitsPerSample}-bit float WAV is not supported.`, 'unsupported-audio');
      if (channels < 1 || sampleRate < 1) throw new UserError(msg`${name} declares ${channels} channels at ${sampleRate} Hz.`, 'not-audio');
      fmt = { format, channels, sampleRate, bitsPerSample };
    } else if (id === 'data') {
      if (!fmt) throw new UserError(msg`${name} has its data before the fmt chunk.`, 'not-audio');
      const blockAlign = (fmt.bitsPerSample / 8) * fmt.channels;
      // Streaming writers leave 0 or 0xFFFFFFFF here; then the data runs to the end of the file.
      const dataBytes = size === 0 || size === 0xffffffff ? -1 : size;
      return { ...fmt, dataOffset: body, dataBytes, frames: dataBytes < 0 ? -1 : Math.floor(dataBytes / blockAlign) };
    }
    offset = body + size + (size % 2);
  }
  throw new UserError(msg`${name} has no audio data (no fmt/data chunk in its header).`, 'not-audio');
}

export interface ReadWavOptions {
  /** Refuse longer input before reading it, with this limit in the message. */
  maxSeconds?: number;
}

export function readWav(file: string, options: ReadWavOptions = {}): DecodedAudio {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) throw new UserError(msg`${file} is empty (0 bytes).`, 'empty-audio');
    const head = Buffer.alloc(Math.min(size, HEADER_PROBE));
    fs.readSync(fd, head, 0, head.length, 0);
    const layout = parseWavLayout(head, file);
    const blockAlign = (layout.bitsPerSample / 8) * layout.channels;
    const available = Math.max(0, size - layout.dataOffset);
    const declared = layout.dataBytes < 0 ? available : layout.dataBytes;
    const frames = Math.floor(declared / blockAlign);
    if (options.maxSeconds !== undefined && frames / layout.sampleRate > options.maxSeconds) {
      throw new UserError(
        msg`${file} lasts ${formatDuration(frames / layout.sampleRate)}; the limit is ${formatDuration(options.maxSeconds)} (setting rvcStudio.inference.maxSeconds) — split it first.`,
        'audio-too-long',
      );
    }
    const readable = Math.floor(Math.min(declared, available) / blockAlign);
    if (readable === 0) throw new UserError(msg`${file} holds no samples (zero-length audio).`, 'empty-audio');
    const data = Buffer.alloc(readable * blockAlign);
    fs.readSync(fd, data, 0, data.length, layout.dataOffset);
    return {
      samples: decodeFrames(data, layout, readable),
      sampleRate: layout.sampleRate,
      channels: layout.channels,
      bitsPerSample: layout.bitsPerSample,
      format: layout.format,
    };
  } finally {
    fs.closeSync(fd);
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function decodeFrames(data: Buffer, layout: WavLayout, frames: number): Float32Array {
  const { channels, bitsPerSample, format } = layout;
  const bytes = bitsPerSample / 8;
  const out = new Float32Array(frames);
  const read = sampleReader(data, format, bitsPerSample);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    const base = f * channels * bytes;
    for (let ch = 0; ch < channels; ch++) sum += read(base + ch * bytes);
    out[f] = sum / channels;
  }
  return out;
}

function sampleReader(data: Buffer, format: 'pcm' | 'float', bits: number): (at: number) => number {
  if (format === 'float') return bits === 32 ? (at) => data.readFloatLE(at) : (at) => data.readDoubleLE(at);
  switch (bits) {
    case 8:
      return (at) => (data[at]! - 128) / 128;
    case 16:
      return (at) => data.readInt16LE(at) / 32768;
    case 24:
      return (at) => data.readIntLE(at, 3) / 8388608;
    default:
      return (at) => data.readInt32LE(at) / 2147483648;
  }
}

/** A 16-bit PCM mono WAV header for `frames` samples. */
export function wavHeader16(frames: number, sampleRate: number, channels = 1): Buffer {
  const dataBytes = frames * channels * 2;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Writes already-scaled int16 samples as a mono 16-bit WAV. */
export function writeWav16(file: string, samples: Int16Array, sampleRate: number): void {
  const body = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  fs.writeFileSync(file, Buffer.concat([wavHeader16(samples.length, sampleRate), body]));
}

/** Float samples in [-1, 1] → int16 with clipping (for tests and tools writing plain WAVs). */
export function floatToInt16(samples: Float32Array, scale = 32767): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * scale)));
  return out;
}
