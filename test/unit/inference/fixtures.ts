import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedFixtures } from '../../support/tempDir.ts';

/** Paths into ../shared/fixtures/rvc-real-a, written by real RVC code (read-only). */
export const realA = path.join(sharedFixtures, 'rvc-real-a');
export const fx = {
  onnxDir: path.join(realA, 'onnx'),
  model: path.join(realA, 'onnx', 'alto-demo.onnx'),
  modelNoNoise: path.join(realA, 'onnx', 'alto-demo.nonoise.onnx'),
  manifest: path.join(realA, 'onnx', 'manifest.json'),
  contentVec: path.join(realA, 'onnx', 'aux', 'vec-768-layer-12.standin.onnx'),
  auxDir: path.join(realA, 'onnx', 'aux'),
  index: path.join(realA, 'logs', 'alto-demo', 'added_IVF37_Flat_nprobe_1_alto-demo_v2.index'),
  trainedIndex: path.join(realA, 'logs', 'alto-demo', 'trained_IVF37_Flat_nprobe_1_alto-demo_v2.index'),
  features: path.join(realA, 'logs', 'alto-demo', '3_feature768', '0_1.npy'),
  indexReference: path.join(realA, 'provenance', 'index-search-reference.json'),
};

/** Call in a mocha `before`: skips the suite loudly when the shared fixtures are absent. */
export function requireFixtures(ctx: Mocha.Context): void {
  if (!fs.existsSync(fx.model)) {
    console.warn(`SKIP: ../shared/fixtures not found — ${fx.model} is missing, so the inference fixture tests cannot run.`);
    ctx.skip();
  }
}

export function readF32(file: string): Float32Array {
  const bytes = fs.readFileSync(file);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
