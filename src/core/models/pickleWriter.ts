import { orderedDicts, type PickleDict, type TorchDtype } from './pickle.ts';

/**
 * The pickle `torch.save` writes (torch 1.13, Python 3's C pickler, protocol 2), byte for byte, for
 * the values an RVC model holds: None, bool, int, float, str, list, dict, OrderedDict and tensors.
 * What makes the bytes Python's:
 * - every str, list, dict, non-empty tuple, global and reduced object is memoized (BINPUT /
 *   LONG_BINPUT, index = order of first save) and a later save of the *same object* is a BINGET.
 *   JS strings have no identity, so each string occurrence is a new object, as in RVC's files,
 *   except the two torch passes as one object to every storage record: "storage" and its location;
 * - lists and dicts go in batches of 1000 (APPENDS / SETITEMS), one item as APPEND / SETITEM, and a
 *   plain dict of exactly 1000·k items ends with an empty MARK SETITEMS (batch_dict_exact), an
 *   OrderedDict does not (batch_dict on its items iterator);
 * - a tensor is `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`, its storage
 *   the persistent id `('storage', torch.<T>Storage, key, 'cpu', numel)` with keys numbered in the
 *   order storages are first pickled (torch's id_map).
 */

/** Bytes of one storage; a tensor shares a storage with another by holding the same object. */
export interface StorageToSave {
  readonly dtype: TorchDtype;
  readonly bytes: Uint8Array;
}

export class TensorToSave {
  readonly storage: StorageToSave;
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  constructor(storage: StorageToSave, shape: readonly number[], stride?: readonly number[], storageOffset = 0) {
    this.storage = storage;
    this.shape = shape;
    this.stride = stride ?? contiguousStride(shape);
    this.storageOffset = storageOffset;
  }
}

/** A Python float whose value is whole (JS numbers that are whole are pickled as ints). */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export type SaveValue = null | boolean | number | bigint | string | PyFloat | TensorToSave | readonly SaveValue[] | SaveDict;
export type SaveDict = Map<string | number, SaveValue>;

/** A Map pickled as `collections.OrderedDict` (a bare Map is a plain dict). */
export function orderedDict(entries: Iterable<readonly [string | number, SaveValue]> = []): SaveDict {
  const dict: SaveDict = new Map(entries);
  orderedDicts.add(dict as PickleDict);
  return dict;
}

export function contiguousStride(shape: readonly number[]): number[] {
  const stride: number[] = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = step;
    step *= shape[i]!;
  }
  return stride;
}

export const ITEM_BYTES: Readonly<Record<TorchDtype, number>> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** torch's storage class for each dtype, as torch.save names it in the pickle. */
export const STORAGE_NAMES: Readonly<Record<TorchDtype, string>> = {
  float16: 'HalfStorage',
  float32: 'FloatStorage',
  bfloat16: 'BFloat16Storage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

const BATCH = 1000;

export interface PickledSave {
  pickle: Uint8Array;
  /** Storage key → bytes, in key order (0, 1, 2 …). */
  storages: [string, Uint8Array][];
}

export function pickleForTorchSave(root: SaveValue): PickledSave {
  const pickler = new Pickler();
  pickler.dump(root);
  return { pickle: pickler.bytes(), storages: pickler.storages };
}

/** Interned objects the memo knows by identity; strings get a fresh object each time, as noted above. */
const STORAGE_TAG = { tag: 'storage' };
const CPU_TAG = { tag: 'cpu' };

class Pickler {
  readonly storages: [string, Uint8Array][] = [];
  readonly #chunks: Buffer[] = [];
  readonly #memo = new Map<object | string, number>();
  readonly #storageKeys = new Map<StorageToSave, { key: string; identity: object }>();

  dump(root: SaveValue): void {
    this.#op(0x80, 2);
    this.#save(root);
    this.#op(0x2e); // STOP
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.#chunks);
  }

  #op(...bytes: number[]): void {
    this.#chunks.push(Buffer.from(bytes));
  }

  #raw(buffer: Buffer): void {
    this.#chunks.push(buffer);
  }

  #memoize(key: object | string): void {
    const index = this.#memo.size;
    this.#memo.set(key, index);
    if (index < 256)
      this.#op(0x71, index); // BINPUT
    else this.#raw(opWithUint32(0x72, index)); // LONG_BINPUT
  }

  /** BINGET for an object already pickled; false when it is new. */
  #get(key: object | string): boolean {
    const index = this.#memo.get(key);
    if (index === undefined) return false;
    if (index < 256) this.#op(0x68, index);
    else this.#raw(opWithUint32(0x6a, index));
    return true;
  }

  #save(value: SaveValue): void {
    if (value === null) return this.#op(0x4e); // NONE
    if (value === true) return this.#op(0x88); // NEWTRUE
    if (value === false) return this.#op(0x89); // NEWFALSE
    if (typeof value === 'number') return Number.isInteger(value) ? this.#int(BigInt(value)) : this.#float(value);
    if (typeof value === 'bigint') return this.#int(value);
    if (typeof value === 'string') return this.#string(value);
    if (value instanceof PyFloat) return this.#float(value.value);
    if (value instanceof TensorToSave) return this.#tensor(value);
    if (value instanceof Map) return this.#dict(value);
    // The reader gives tuples as frozen arrays.
    if (Object.isFrozen(value)) return this.#tuple(() => value.forEach((item) => this.#save(item)), value.length);
    return this.#list(value);
  }

  #int(n: bigint): void {
    if (n >= 0n && n < 256n) return this.#op(0x4b, Number(n)); // BININT1
    if (n >= 0n && n < 65536n) return this.#op(0x4d, Number(n) & 0xff, Number(n) >> 8); // BININT2
    if (n >= -(2n ** 31n) && n < 2n ** 31n) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(Number(n), 1);
      return this.#raw(b);
    }
    const bytes: number[] = []; // LONG1: little-endian two's complement, as few bytes as hold the sign
    let rest = n;
    do {
      bytes.push(Number(rest & 0xffn));
      rest >>= 8n;
    } while (!(rest === 0n && (bytes.at(-1)! & 0x80) === 0) && !(rest === -1n && (bytes.at(-1)! & 0x80) !== 0));
    this.#op(0x8a, bytes.length, ...bytes);
  }

  #float(x: number): void {
    const b = Buffer.alloc(9);
    b[0] = 0x47; // BINFLOAT, big-endian
    b.writeDoubleBE(x, 1);
    this.#raw(b);
  }

  /** A fresh string object each time; `identity` names one shared object (torch's "storage", "cpu"). */
  #string(text: string, identity?: object): void {
    if (identity && this.#get(identity)) return;
    const utf8 = Buffer.from(text, 'utf8');
    this.#raw(opWithUint32(0x58, utf8.length)); // BINUNICODE
    this.#raw(utf8);
    this.#memoize(identity ?? {});
  }

  #global(module: string, name: string): void {
    const key = `global:${module}.${name}`;
    if (this.#get(key)) return;
    this.#raw(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    this.#memoize(key);
  }

  #list(items: readonly SaveValue[]): void {
    this.#op(0x5d); // EMPTY_LIST
    this.#memoize({});
    if (items.length === 1) {
      this.#save(items[0]!);
      return this.#op(0x61); // APPEND
    }
    for (let start = 0; start < items.length; start += BATCH) {
      this.#op(0x28); // MARK
      for (const item of items.slice(start, start + BATCH)) this.#save(item);
      this.#op(0x65); // APPENDS
    }
  }

  #dict(dict: SaveDict): void {
    const ordered = orderedDicts.has(dict as PickleDict);
    if (ordered) {
      this.#global('collections', 'OrderedDict');
      this.#op(0x29, 0x52); // EMPTY_TUPLE REDUCE
    } else this.#op(0x7d); // EMPTY_DICT
    this.#memoize({});
    const items = [...dict];
    if (items.length === 1) {
      this.#save(items[0]![0]);
      this.#save(items[0]![1]);
      return this.#op(0x73); // SETITEM
    }
    if (items.length === 0) return;
    // batch_dict_exact writes a last, empty batch after a full one; batch_dict stops.
    const batches = Math.floor(items.length / BATCH) + (ordered ? (items.length % BATCH === 0 ? 0 : 1) : 1);
    for (let b = 0; b < batches; b++) {
      const batch = items.slice(b * BATCH, (b + 1) * BATCH);
      if (ordered && batch.length === 1) {
        this.#save(batch[0]![0]);
        this.#save(batch[0]![1]);
        this.#op(0x73);
        continue;
      }
      this.#op(0x28);
      for (const [key, value] of batch) {
        this.#save(key);
        this.#save(value);
      }
      this.#op(0x75); // SETITEMS
    }
  }

  /** A tuple of 1–3 items is TUPLE1–3, a longer one MARK … TUPLE, the empty one EMPTY_TUPLE (never memoized). */
  #tuple(items: readonly number[] | (() => void), length = Array.isArray(items) ? items.length : 0): void {
    if (length === 0) return this.#op(0x29);
    if (length > 3) this.#op(0x28);
    if (typeof items === 'function') items();
    else for (const item of items) this.#int(BigInt(item));
    this.#op(length > 3 ? 0x74 : [0x85, 0x86, 0x87][length - 1]!);
    this.#memoize({});
  }

  #tensor(tensor: TensorToSave): void {
    this.#global('torch._utils', '_rebuild_tensor_v2');
    this.#tuple(() => {
      this.#persistentStorage(tensor.storage);
      this.#int(BigInt(tensor.storageOffset));
      this.#tuple(tensor.shape);
      this.#tuple(tensor.stride);
      this.#op(0x89); // requires_grad = False
      this.#global('collections', 'OrderedDict'); // backward_hooks = OrderedDict()
      this.#op(0x29, 0x52);
      this.#memoize({});
    }, 6);
    this.#op(0x52); // REDUCE
    this.#memoize({});
  }

  #persistentStorage(storage: StorageToSave): void {
    // torch's id_map hands out one key string per storage, so a shared storage's key is a BINGET.
    let key = this.#storageKeys.get(storage);
    if (key === undefined) {
      key = { key: String(this.#storageKeys.size), identity: {} };
      this.#storageKeys.set(storage, key);
      this.storages.push([key.key, storage.bytes]);
    }
    const numel = storage.bytes.length / ITEM_BYTES[storage.dtype];
    this.#tuple(() => {
      this.#string('storage', STORAGE_TAG);
      this.#global('torch', STORAGE_NAMES[storage.dtype]);
      this.#string(key.key, key.identity);
      this.#string('cpu', CPU_TAG);
      this.#int(BigInt(numel));
    }, 5);
    this.#op(0x51); // BINPERSID
  }
}

function opWithUint32(op: number, value: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = op;
  b.writeUInt32LE(value, 1);
  return b;
}
