import * as fs from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { openZipArchive } from '../../src/core/models/zipArchive.ts';
import { type PickleDict, type PickleValue, TorchStorage, TorchTensor } from '../../src/core/models/pickle.ts';
import { STORAGE_NAMES } from '../../src/core/models/pickleWriter.ts';
import { openTorchCheckpoint } from '../../src/core/models/torchCheckpoint.ts';

/**
 * Writers for the test's own PyTorch files: pickles byte by byte, a tiny zip writer (stored or
 * deflated entries, with sizes that may lie), and a `torchSave` that writes a PickleValue tree the
 * way torch.save lays it out, so real RVC fixtures can be re-saved with one part changed.
 */

/** Pickle opcodes as torch.save (protocol 2) and protocol 4 write them. */
export const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  EMPTY_DICT: 0x7d,
  DICT: 0x64,
  EMPTY_LIST: 0x5d,
  LIST: 0x6c,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  APPEND: 0x61,
  APPENDS: 0x65,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  MEMOIZE: 0x94,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  SHORT_BINBYTES: 0x43,
  BINBYTES: 0x42,
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  REDUCE: 0x52,
  BUILD: 0x62,
  BINPERSID: 0x51,
  FRAME: 0x95,
} as const;

export type PicklePart = number | string | Uint8Array | readonly PicklePart[];

/** Concatenates opcodes (numbers are single bytes), raw strings (latin1) and byte arrays. */
export function bytes(...parts: PicklePart[]): Buffer {
  const out: Buffer[] = [];
  const add = (part: PicklePart): void => {
    if (typeof part === 'number') out.push(Buffer.from([part]));
    else if (typeof part === 'string') out.push(Buffer.from(part, 'latin1'));
    else if (part instanceof Uint8Array) out.push(Buffer.from(part));
    else part.forEach(add);
  };
  parts.forEach(add);
  return Buffer.concat(out);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** BINUNICODE: the string as protocol 2 writes it. */
export function str(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  return bytes(OP.BINUNICODE, u32(utf8.length), utf8);
}

export function int(n: number): Buffer {
  if (n >= 0 && n < 256) return bytes(OP.BININT1, n);
  if (n >= 0 && n < 65536) return bytes(OP.BININT2, n & 0xff, n >> 8);
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return bytes(OP.BININT, b);
}

export function float(x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return bytes(OP.BINFLOAT, b);
}

// ---- zip ----

export interface ZipPart {
  name: string;
  data: Uint8Array;
  /** 0 stored (default) or 8 deflated. */
  method?: 0 | 8;
  /** Lie about the uncompressed size in both headers. */
  declaredSize?: number;
  /** Lie about both sizes (compressed and uncompressed) in both headers. */
  declaredSizes?: number;
  /** Unix mode for the external attributes (default a plain file, 0o100644). */
  mode?: number;
}

/** A plain zip archive (no zip64), as small as the format allows. */
export function zip(parts: ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name, 'utf8');
    const body = part.method === 8 ? deflateRawSync(part.data) : Buffer.from(part.data);
    const size = part.declaredSizes ?? part.declaredSize ?? part.data.length;
    const compressed = part.declaredSizes ?? body.length;
    const crc = crc32(part.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(part.method ?? 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(part.method ?? 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((part.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A checkpoint zip around a pickle and storages, laid out like torch.save's. */
export function torchZip(pickle: Uint8Array, storages: Map<string, Uint8Array> = new Map(), archive = 'archive'): Buffer {
  return zip([
    { name: `${archive}/data.pkl`, data: pickle },
    { name: `${archive}/byteorder`, data: Buffer.from('little') },
    ...[...storages].map(([key, data]) => ({ name: `${archive}/data/${key}`, data })),
    { name: `${archive}/version`, data: Buffer.from('3\n') },
  ]);
}

// ---- torchSave: a PickleValue tree as torch.save pickles it ----

export function pickleTree(root: PickleValue): Buffer {
  return bytes(OP.PROTO, 2, value(root), OP.STOP);
}

function value(v: PickleValue): PicklePart {
  if (v === null) return OP.NONE;
  if (typeof v === 'boolean') return v ? OP.NEWTRUE : OP.NEWFALSE;
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? int(v) : float(v);
  if (typeof v === 'string') return str(v);
  if (v instanceof Uint8Array) return bytes(OP.BINBYTES, u32(v.length), v);
  if (v instanceof TorchTensor) return tensor(v);
  if (Array.isArray(v)) return Object.isFrozen(v) ? [OP.MARK, v.map(value), OP.TUPLE] : [OP.EMPTY_LIST, OP.MARK, v.map(value), OP.APPENDS];
  if (v instanceof Map)
    return [
      OP.GLOBAL,
      'collections\nOrderedDict\n',
      OP.EMPTY_TUPLE,
      OP.REDUCE,
      OP.MARK,
      [...v].map(([k, x]) => [value(k), value(x)]),
      OP.SETITEMS,
    ];
  throw new Error(`pickleTree cannot write ${String(v)}`);
}

function tensor(t: TorchTensor): PicklePart {
  const s = t.storage;
  const pid = [
    OP.MARK,
    str('storage'),
    OP.GLOBAL,
    `torch\n${STORAGE_NAMES[s.dtype]}\n`,
    str(s.key),
    str(s.location),
    int(s.numel),
    OP.TUPLE,
    OP.BINPERSID,
  ];
  const ints = (xs: readonly number[]): PicklePart => [OP.MARK, xs.map(int), OP.TUPLE];
  return [
    OP.GLOBAL,
    'torch._utils\n_rebuild_tensor_v2\n',
    OP.MARK,
    pid,
    int(t.storageOffset),
    ints(t.shape),
    ints(t.stride),
    OP.NEWFALSE,
    OP.GLOBAL,
    'collections\nOrderedDict\n',
    OP.EMPTY_TUPLE,
    OP.REDUCE,
    OP.TUPLE,
    OP.REDUCE,
  ];
}

export function contiguousStride(shape: readonly number[]): number[] {
  const stride: number[] = [];
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = step;
    step *= shape[i]!;
  }
  return stride;
}

export function tensorOf(
  dtype: TorchStorage['dtype'],
  key: string,
  shape: number[],
  options: { offset?: number; stride?: number[]; storageNumel?: number } = {},
): TorchTensor {
  const numel = shape.reduce((n, d) => n * d, 1);
  const storage = new TorchStorage(dtype, key, 'cpu', options.storageNumel ?? (options.offset ?? 0) + numel);
  return new TorchTensor(storage, options.offset ?? 0, shape, options.stride ?? contiguousStride(shape));
}

/**
 * Re-saves a real checkpoint after `edit` changed its top-level dict (a copy): every storage of
 * the source is carried over byte for byte.
 */
export async function resave(source: string, dest: string, edit: (root: PickleDict) => void): Promise<void> {
  const checkpoint = await openTorchCheckpoint(source);
  const root = new Map(checkpoint.root as PickleDict);
  await checkpoint.close();
  edit(root);
  const archive = await openZipArchive(source);
  const storages = new Map<string, Uint8Array>();
  try {
    for (const entry of archive.entries()) {
      const m = /^[^/]+\/data\/(.+)$/.exec(entry.name);
      if (m) storages.set(m[1]!, await archive.read(entry.name, { maxBytes: entry.uncompressedSize }));
    }
  } finally {
    await archive.close();
  }
  fs.writeFileSync(dest, torchZip(pickleTree(root), storages));
}

/** The state dict inside an RVC file's root (`weight` or `model`), as a mutable copy put back in place. */
export function editWeights(root: PickleDict, edit: (weights: PickleDict) => PickleDict | void): void {
  const key = root.has('weight') ? 'weight' : 'model';
  const weights = new Map(root.get(key) as PickleDict);
  root.set(key, edit(weights) ?? weights);
}
