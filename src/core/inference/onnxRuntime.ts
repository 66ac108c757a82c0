import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { msg, UserError } from '../util/errors.ts';

/**
 * onnxruntime-node is a native addon kept out of the bundle (esbuild cannot bundle .node files), so
 * it is required at run time from node_modules, both from src/ under mocha and from dist/.
 */
export type Ort = typeof OrtModule;
export type OrtSession = InferenceSession;
export type OrtTensor = Tensor;

let cached: Ort | undefined;

export function onnxRuntime(): Ort {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('onnxruntime-node') as Ort;
  } catch (error) {
    throw new UserError(
      msg`onnxruntime-node could not be loaded (${(error as Error).message}); reinstall RVC Studio.`,
      'onnxruntime-missing',
      { cause: error },
    );
  }
  return cached;
}

export interface SessionOptions {
  /** Threads for one operator; RVC's own export is measured with 1–2 on small machines. */
  threads?: number;
}

export async function openSession(file: string, options: SessionOptions = {}): Promise<OrtSession> {
  const ort = onnxRuntime();
  try {
    return await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Without the arena a full-width synthesizer spends 40% of a chunk in mmap/munmap and page
      // faults (RTF 0.70 against 0.41 with it, same peak memory). The arena holds a chunk's peak
      // until the session is released, so the worker releases its sessions when it falls idle.
      enableCpuMemArena: true,
    });
  } catch (error) {
    throw new UserError(msg`${file} is not a loadable ONNX model: ${firstLine((error as Error).message)}`, 'bad-model', { cause: error });
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300);
}
