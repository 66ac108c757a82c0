import * as fs from 'node:fs';
import * as path from 'node:path';
import { readNpyFloat64 } from '../../../src/core/inference/npyFile.ts';
import { sharedFixtures } from '../../support/tempDir.ts';

/**
 * ../shared/fixtures/rvc-fidelity: RVC 20240604's own vc_single on a real voice (CPU, noise
 * zeroed), every stage recorded. Read-only; see its README for what each file is.
 */
export const fidelityDir = path.join(sharedFixtures, 'rvc-fidelity');

export interface FidelityChunk {
  start: number;
  len: number;
  pitch_start: number;
  T: number;
}

export interface FidelityCase {
  id: string;
  params: {
    f0_method: 'rmvpe' | 'harvest';
    f0_up_key: number;
    index_rate: number;
    filter_radius: number;
    rms_mix_rate: number;
    protect: number;
    sid: number;
  };
  tgt_sr: number;
  p_len: number;
  n_out: number;
  chunks: FidelityChunk[];
}

interface Manifest {
  cases: Record<string, Omit<FidelityCase, 'id'>>;
}

export const fid = {
  wav: path.join(fidelityDir, 'inputs', 'tenor48.wav'),
  pth: path.join(fidelityDir, 'voice', 'tenor-48k.pth'),
  index: path.join(fidelityDir, 'voice', 'added_IVF36_Flat_nprobe_1_tenor-48k_v2.index'),
  rmvpe: path.join(fidelityDir, 'rmvpe.standin.onnx'),
  contentVec: path.join(sharedFixtures, 'rvc-real-a', 'onnx', 'aux', 'vec-768-layer-12.standin.onnx'),
  perInput: (name: string): string => path.join(fidelityDir, 'per_input', 'tenor48', name),
  inCase: (id: string, name: string): string => path.join(fidelityDir, 'cases', id, name),
};

/** Call in a mocha `before`: skips the suite loudly when the shared fixture is absent. */
export function requireFidelityFixture(ctx: Mocha.Context): void {
  if (!fs.existsSync(path.join(fidelityDir, 'manifest.json'))) {
    console.warn(`SKIP: ${fidelityDir} not found — the RVC fidelity tests cannot run without ../shared/fixtures/rvc-fidelity.`);
    ctx.skip();
  }
}

export function fidelityCases(): FidelityCase[] {
  const file = path.join(fidelityDir, 'manifest.json');
  if (!fs.existsSync(file)) return [];
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  return Object.entries(manifest.cases).map(([id, c]) => ({ id, ...c }));
}

/** A recorded array at full precision (ints widened to float64). */
export function npy(file: string): Float64Array {
  return readNpyFloat64(file).data;
}

export function f32bin(file: string): Float32Array {
  const bytes = fs.readFileSync(file);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The int16 samples of a PCM WAV's data chunk. */
export function pcm16(file: string): Int16Array {
  const buf = fs.readFileSync(file);
  let at = 12;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === 'data') {
      const out = new Int16Array(size / 2);
      for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(at + 8 + 2 * i);
      return out;
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}
