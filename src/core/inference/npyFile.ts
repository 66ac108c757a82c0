import * as fs from 'node:fs';
import { msg, UserError } from '../util/errors.ts';

/** A float matrix read from NumPy's .npy format (what RVC writes for features and f0). */
export interface NpyArray {
  shape: number[];
  /** Always widened/narrowed to float32, row-major. */
  data: Float32Array;
}

const MAGIC = '\x93NUMPY';

export function readNpy(file: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new UserError(msg`Cannot read ${file}: ${(error as Error).message}`, 'not-found', { cause: error });
  }
  return parseNpy(bytes, file);
}

/** The same file kept at full precision: f0 curves and stage dumps are float64 in RVC. */
export function readNpyFloat64(file: string): { shape: number[]; data: Float64Array } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new UserError(msg`Cannot read ${file}: ${(error as Error).message}`, 'not-found', { cause: error });
  }
  return parseNpy(bytes, file, Float64Array);
}

export function parseNpy(bytes: Uint8Array, name?: string): NpyArray;
export function parseNpy(bytes: Uint8Array, name: string, into: Float64ArrayConstructor): { shape: number[]; data: Float64Array };
export function parseNpy(
  bytes: Uint8Array,
  name = 'array',
  into: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array,
): { shape: number[]; data: Float32Array | Float64Array } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== MAGIC)
    throw new UserError(msg`${name} is not a .npy file (no \\x93NUMPY magic).`, 'bad-npy');
  const major = buf[6]!;
  const headerStart = major === 1 ? 10 : 12;
  if (buf.length < headerStart) throw new UserError(msg`${name} is truncated inside its .npy header.`, 'bad-npy');
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (headerStart + headerLen > buf.length) throw new UserError(msg`${name} is truncated inside its .npy header.`, 'bad-npy');
  const header = buf.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new UserError(msg`${name}: unreadable .npy header ${JSON.stringify(header)}.`, 'bad-npy');
  if (fortran) throw new UserError(msg`${name} is stored in Fortran order; save it with np.ascontiguousarray first.`, 'bad-npy');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (!shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new UserError(msg`${name}: unreadable .npy shape (${shapeText}).`, 'bad-npy');
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const readers: Record<string, [number, (at: number) => number]> = {
    '<f4': [4, (at) => buf.readFloatLE(at)],
    '<f8': [8, (at) => buf.readDoubleLE(at)],
    '<f2': [2, (at) => halfToFloat(buf.readUInt16LE(at))],
    '<i8': [8, (at) => Number(buf.readBigInt64LE(at))],
    '<i4': [4, (at) => buf.readInt32LE(at)],
    '<i2': [2, (at) => buf.readInt16LE(at)],
    '|u1': [1, (at) => buf.readUInt8(at)],
  };
  const reader = readers[descr];
  if (!reader) throw new UserError(msg`${name}: .npy dtype ${descr} is not supported (use float32).`, 'bad-npy');
  const [size, read] = reader;
  if (offset + count * size > buf.length)
    throw new UserError(msg`${name} is truncated: shape (${shape.join(', ')}) needs ${count * size} data bytes.`, 'bad-npy');
  // Allocated only once the file is known to hold that much: a header cannot ask for unbounded memory.
  const data = new into(count);
  for (let i = 0; i < count; i++) data[i] = read(offset + i * size);
  return { shape, data };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array;

const DESCR_OF: [new (n: number) => NpyData, string][] = [
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Int32Array, '<i4'],
  [BigInt64Array, '<i8'],
  [Int16Array, '<i2'],
];

/** NumPy's .npy format, version 1.0, C order: what `np.load` reads back with dtype and shape. */
export function encodeNpy(data: NpyData, shape: readonly number[] = [data.length]): Buffer {
  const descr = DESCR_OF.find(([type]) => data instanceof type)?.[1];
  if (!descr) throw new Error('encodeNpy: unsupported array type');
  if (shape.reduce((a, b) => a * b, 1) !== data.length)
    throw new Error(`encodeNpy: shape (${shape.join(', ')}) does not hold ${data.length} values`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The header is padded with spaces so the data starts on a 64-byte boundary, ending in a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write(MAGIC, 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
