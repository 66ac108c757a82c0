import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import { encodeNpy, type NpyData } from './npyFile.ts';

/**
 * `infer --dump-stages DIR`: every intermediate of a conversion as `.npy`, named as in
 * ../shared/fixtures/rvc-fidelity (audio16k, audio_pad, f0_raw_before_key, …), so a conversion
 * can be diffed against RVC's own recording stage by stage with numpy alone.
 */
export interface StageRecorder {
  /** Whether anything is kept: stages skip building copies only a dump needs. */
  readonly active: boolean;
  record(name: string, data: NpyData, shape?: readonly number[]): void;
}

export const NO_RECORDER: StageRecorder = { active: false, record: () => undefined };

const SUFFIX: [new (n: number) => NpyData, string][] = [
  [Float32Array, 'f32'],
  [Float64Array, 'f64'],
  [Int32Array, 'i32'],
  [BigInt64Array, 'i64'],
  [Int16Array, 'i16'],
];

/** The file a stage lands in: `<name>.<dtype>.npy`, the fixtures' naming (`f0_after_key.f64.npy`). */
export function stageFileName(name: string, data: NpyData): string {
  const suffix = SUFFIX.find(([type]) => data instanceof type)?.[1] ?? 'bin';
  return `${name}.${suffix}.npy`;
}

export function stageDumper(dir: string): StageRecorder {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UserError(msg`Cannot create the stage folder ${dir}: ${(error as Error).message}`, 'not-writable', { cause: error });
  }
  return {
    active: true,
    record(name, data, shape) {
      fs.writeFileSync(path.join(dir, stageFileName(name, data)), encodeNpy(data, shape));
    },
  };
}
