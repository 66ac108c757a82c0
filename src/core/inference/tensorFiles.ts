import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import { resolveInsideReal } from '../util/paths.ts';

/**
 * Raw little-endian, C-ordered tensors with a JSON manifest — the format of the fixtures'
 * onnx/manifest.json (`inputs`/`outputs`: name → { file, dtype, shape }), which is what RVC's
 * exporter checks are written against.
 */
export const TENSOR_DTYPES = ['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface RawTensor {
  dtype: TensorDtype;
  shape: number[];
  data: TensorData;
}

export interface TensorEntry {
  file: string;
  dtype: TensorDtype;
  shape: number[];
}

export interface TensorManifest {
  inputs: Record<string, TensorEntry>;
  outputs?: Record<string, TensorEntry>;
}

const BYTES: Record<TensorDtype, number> = { float32: 4, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function readManifest(file: string): TensorManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserError(msg`Cannot read tensor manifest ${file}: ${(error as Error).message}`, 'bad-manifest', { cause: error });
  }
  const inputs = (parsed as { inputs?: unknown }).inputs;
  if (!inputs || typeof inputs !== 'object')
    throw new UserError(msg`${file} has no "inputs" object (name → {file, dtype, shape}).`, 'bad-manifest');
  const checked: Record<string, TensorEntry> = {};
  for (const [name, entry] of Object.entries(inputs as Record<string, unknown>)) checked[name] = checkEntry(file, name, entry);
  return { inputs: checked };
}

function checkEntry(manifest: string, name: string, entry: unknown): TensorEntry {
  const e = entry as Partial<TensorEntry> | null;
  if (
    !e ||
    typeof e.file !== 'string' ||
    !TENSOR_DTYPES.includes(e.dtype as TensorDtype) ||
    !Array.isArray(e.shape) ||
    !e.shape.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw new UserError(
      msg`${manifest}: input "${name}" needs file, dtype (${TENSOR_DTYPES.join('|')}) and an integer shape.`,
      'bad-manifest',
    );
  }
  return { file: e.file, dtype: e.dtype as TensorDtype, shape: e.shape };
}

/** Reads a manifest's tensor; its file must stay inside the manifest's folder. */
export function readTensor(baseDir: string, entry: TensorEntry): RawTensor {
  const file = resolveInsideReal(baseDir, entry.file);
  const bytes = fs.readFileSync(file);
  const expected = elementCount(entry.shape) * BYTES[entry.dtype];
  if (bytes.length !== expected) {
    throw new UserError(
      msg`${entry.file} holds ${bytes.length} bytes but ${entry.dtype} ${JSON.stringify(entry.shape)} needs ${expected}.`,
      'bad-tensor',
    );
  }
  return { dtype: entry.dtype, shape: [...entry.shape], data: viewAs(entry.dtype, bytes) };
}

function viewAs(dtype: TensorDtype, bytes: Buffer): TensorData {
  // Copy into an aligned buffer: a Buffer from the pool may start at an odd offset.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const buf = copy.buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint8':
    case 'bool':
      return copy;
  }
}

export function tensorBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The file-name suffix the fixtures use: output.audio.f32.bin. */
export function dtypeSuffix(dtype: TensorDtype): string {
  const map: Record<TensorDtype, string> = {
    float32: 'f32',
    float64: 'f64',
    int64: 'i64',
    int32: 'i32',
    int16: 'i16',
    int8: 'i8',
    uint8: 'u8',
    bool: 'bool',
  };
  return map[dtype];
}

export function writeTensor(dir: string, name: string, tensor: RawTensor): TensorEntry {
  const file = `output.${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.${dtypeSuffix(tensor.dtype)}.bin`;
  fs.writeFileSync(path.join(dir, file), tensorBytes(tensor.data));
  return { file, dtype: tensor.dtype, shape: tensor.shape };
}
