import * as fs from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/**
 * Reads the few scalar fields RVC stores at the top of its `.pth` files without Python: a PyTorch
 * checkpoint is a zip whose `<name>/data.pkl` is a pickle (protocol 2) of a dict. G/D checkpoints
 * hold `iteration` (the epoch, despite its name) and `learning_rate`; small models hold `info`
 * ("4epoch"), `sr`, `f0` and `version`. Only the pickle is read, never the tensors, and nothing in
 * it is executed: the bytes are searched for the key followed by a plain int, float or string.
 */

export interface CheckpointFields {
  iteration?: number;
  learningRate?: number;
  info?: string;
  sr?: string;
  f0?: number;
  version?: string;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = fs.readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

/** The bytes of the zip member ending in `/data.pkl`, or undefined when the file is not such a zip. */
function readDataPickle(file: string): Buffer | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const tailLength = Math.min(size, 65536 + 22);
    const tail = readAt(fd, size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return undefined;
    const entries = tail.readUInt16LE(eocd + 10);
    const dirSize = tail.readUInt32LE(eocd + 12);
    const dirOffset = tail.readUInt32LE(eocd + 16);
    if (dirOffset === 0xffffffff || dirOffset + dirSize > size) return undefined; // zip64: not an RVC checkpoint size
    const dir = readAt(fd, dirOffset, dirSize);
    let pos = 0;
    for (let n = 0; n < entries && pos + 46 <= dir.length; n++) {
      if (dir.readUInt32LE(pos) !== CENTRAL) return undefined;
      const method = dir.readUInt16LE(pos + 10);
      const compressed = dir.readUInt32LE(pos + 20);
      const nameLength = dir.readUInt16LE(pos + 28);
      const extraLength = dir.readUInt16LE(pos + 30);
      const commentLength = dir.readUInt16LE(pos + 32);
      const localOffset = dir.readUInt32LE(pos + 42);
      const name = dir.toString('utf8', pos + 46, pos + 46 + nameLength);
      pos += 46 + nameLength + extraLength + commentLength;
      if (name !== 'data.pkl' && !name.endsWith('/data.pkl')) continue;
      if (compressed > MAX_PICKLE_BYTES || (method !== 0 && method !== 8)) return undefined;
      const local = readAt(fd, localOffset, 30);
      if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) return undefined;
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const data = readAt(fd, dataStart, compressed);
      return method === 0 ? data : inflateRawSync(data);
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** The value pickled right after the last occurrence of the string `key` (a dict key), if it is a plain scalar. */
function valueAfterKey(pickle: Buffer, key: string): number | string | undefined {
  const keyBytes = Buffer.from(key, 'utf8');
  const needles = [
    Buffer.concat([Buffer.from([0x58]), u32(keyBytes.length), keyBytes]), // BINUNICODE
    Buffer.concat([Buffer.from([0x8c, keyBytes.length]), keyBytes]), // SHORT_BINUNICODE (protocol 4)
  ];
  let at = -1;
  let needleLength = 0;
  for (const needle of needles) {
    const i = pickle.lastIndexOf(needle);
    if (i > at) {
      at = i;
      needleLength = needle.length;
    }
  }
  if (at < 0) return undefined;
  let p = at + needleLength;
  // Skip the memo opcodes that follow every pickled object.
  const op = pickle[p];
  if (op === 0x71) p += 2; // BINPUT
  else if (op === 0x72) p += 5; // LONG_BINPUT
  else if (op === 0x94) p += 1; // MEMOIZE
  if (p >= pickle.length) return undefined;
  switch (pickle[p]) {
    case 0x4b: // BININT1
      return pickle[p + 1];
    case 0x4d: // BININT2
      return pickle.readUInt16LE(p + 1);
    case 0x4a: // BININT
      return pickle.readInt32LE(p + 1);
    case 0x47: // BINFLOAT (big-endian)
      return pickle.readDoubleBE(p + 1);
    case 0x58: // BINUNICODE
      return pickle.toString('utf8', p + 5, p + 5 + pickle.readUInt32LE(p + 1));
    case 0x8c: // SHORT_BINUNICODE
      return pickle.toString('utf8', p + 2, p + 2 + pickle[p + 1]!);
    default:
      return undefined;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function readCheckpointFields(file: string): CheckpointFields {
  let pickle: Buffer | undefined;
  try {
    pickle = readDataPickle(file);
  } catch {
    return {};
  }
  if (!pickle) return {};
  const fields: CheckpointFields = {};
  const num = (key: string): number | undefined => {
    const v = valueAfterKey(pickle, key);
    return typeof v === 'number' ? v : undefined;
  };
  const str = (key: string): string | undefined => {
    const v = valueAfterKey(pickle, key);
    return typeof v === 'string' ? v : undefined;
  };
  const iteration = num('iteration');
  if (iteration !== undefined) fields.iteration = iteration;
  const learningRate = num('learning_rate');
  if (learningRate !== undefined) fields.learningRate = learningRate;
  const info = str('info');
  if (info !== undefined) fields.info = info;
  const sr = str('sr');
  if (sr !== undefined) fields.sr = sr;
  const f0 = num('f0');
  if (f0 !== undefined) fields.f0 = f0;
  const version = str('version');
  if (version !== undefined) fields.version = version;
  return fields;
}

/** The epoch a G/D checkpoint or small model was saved at: `iteration`, or `info` = "{E}epoch". */
export function checkpointEpoch(file: string): number | null {
  const fields = readCheckpointFields(file);
  if (fields.iteration !== undefined && fields.iteration > 0) return fields.iteration;
  const m = fields.info ? /^(\d+)epoch$/.exec(fields.info) : null;
  return m ? Number(m[1]) : null;
}
