import { msg, UserError } from '../util/errors.ts';

/**
 * A pickle interpreter for what `torch.save` writes, which executes nothing. Python's unpickler
 * imports and calls whatever a pickle names (GLOBAL + REDUCE), which is how a `.pth` file can run
 * code under `torch.load`. Here a pickle can only name the few globals torch.save emits for state
 * dicts (see ALLOWED_GLOBALS); they are interpreted by hand, and any other global is refused by name
 * before anything else happens. Unknown opcodes are refused too, and every size is bounded, so a
 * hostile pickle ends in a UserError in time linear in its length.
 *
 * Values: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number,
 * str → string, bytes → Uint8Array, list → array, tuple → frozen array, dict and OrderedDict →
 * Map in insertion order, tensors → TorchTensor. A list or dict can no longer change once it is
 * inside another value (torch.save always finishes a container before nesting it), which rules
 * out cycles and keeps nesting depth exact.
 */

export type TorchDtype = 'float16' | 'float32' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type PickleValue =
  null | boolean | number | bigint | string | Uint8Array | PickleValue[] | PickleDict | TorchTensor | TorchStorage | PickleGlobal;
export type PickleDict = Map<PickleKey, PickleValue>;
export type PickleKey = null | boolean | number | bigint | string;

/**
 * The dicts that were pickled as `collections.OrderedDict` (the others were plain dicts): both read
 * as Maps, but a writer that re-saves a file (set-info) must pickle each as it was.
 */
export const orderedDicts = new WeakSet<PickleDict>();

/** A storage record as torch.save's persistent id names it: `('storage', torch.FloatStorage, key, location, numel)`. */
export class TorchStorage {
  readonly dtype: TorchDtype;
  /** The zip entry `<archive>/data/<key>` holding the bytes. */
  readonly key: string;
  readonly location: string;
  readonly numel: number;
  constructor(dtype: TorchDtype, key: string, location: string, numel: number) {
    this.dtype = dtype;
    this.key = key;
    this.location = location;
    this.numel = numel;
  }
}

export class TorchTensor {
  readonly storage: TorchStorage;
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly numel: number;
  constructor(storage: TorchStorage, storageOffset: number, shape: readonly number[], stride: readonly number[]) {
    this.storage = storage;
    this.storageOffset = storageOffset;
    this.shape = shape;
    this.stride = stride;
    this.numel = shape.reduce((n, d) => n * d, 1);
  }
  get dtype(): TorchDtype {
    return this.storage.dtype;
  }
}

/** An allowed global that is only a marker (a storage type) or a callable this module interprets. */
export class PickleGlobal {
  readonly module: string;
  readonly name: string;
  constructor(module: string, name: string) {
    this.module = module;
    this.name = name;
  }
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * The globals a pickle may name. Storage types are inert dtype tags inside persistent ids (the
 * optimizer state of a G checkpoint adds FloatStorage/LongStorage `step` tensors, so every plain
 * dtype is listed); the three callables are interpreted below, never called.
 */
const STORAGE_TYPES: Readonly<Record<string, TorchDtype>> = {
  HalfStorage: 'float16',
  FloatStorage: 'float32',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const CALLABLES = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);
export const ALLOWED_GLOBALS: readonly string[] = [...CALLABLES, ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`)];

export interface PickleLimits {
  maxBytes: number;
  maxStack: number;
  maxMarks: number;
  maxDepth: number;
  maxMemo: number;
  /** Values created (not counting memo references): bounds memory whatever the opcodes. */
  maxValues: number;
  maxStringBytes: number;
  maxContainerLength: number;
  maxTensorElements: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxStack: 1_000_000,
  maxMarks: 64,
  maxDepth: 64,
  maxMemo: 1_000_000,
  maxValues: 1_000_000,
  maxStringBytes: 1024 * 1024,
  maxContainerLength: 1_000_000,
  maxTensorElements: 2 ** 31,
};

export interface UnpickleOptions {
  /** How messages name the file, e.g. "alto.pth". */
  label: string;
  limits?: Partial<PickleLimits>;
}

export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PickleValue {
  const limits = { ...DEFAULT_PICKLE_LIMITS, ...options.limits };
  if (bytes.length > limits.maxBytes) {
    throw new UserError(
      msg`${options.label} holds a ${bytes.length}-byte pickle, more than the ${limits.maxBytes} RVC Studio reads.`,
      'pickle-too-large',
    );
  }
  return new Unpickler(bytes, options.label, limits).run();
}

const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  BINFLOAT: 0x47, // G
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BINUNICODE: 0x58, // X
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  APPENDS: 0x65, // e
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  EMPTY_TUPLE: 0x29, // )
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  PROTO: 0x80,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

type Container = PickleValue[] | PickleDict;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Unpickler {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #label: string;
  readonly #limits: PickleLimits;
  #pos = 0;
  #stack: PickleValue[] = [];
  readonly #marks: number[] = [];
  readonly #memo = new Map<number, PickleValue>();
  #values = 0;
  /** Containers already nested in another value: frozen from then on. */
  readonly #sealed = new WeakSet<object>();
  readonly #depth = new WeakMap<object, number>();

  constructor(bytes: Uint8Array, label: string, limits: PickleLimits) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#label = label;
    this.#limits = limits;
  }

  run(): PickleValue {
    for (;;) {
      const at = this.#pos;
      const op = this.#u8();
      if (op === OP.STOP) return this.#pop();
      this.#step(op, at);
    }
  }

  // The interpreter's one dispatch: a case per opcode torch.save writes, each one line to its handler.
  // Split into groups it would only hide the allowlist, which reads best as one table.
  // eslint-disable-next-line max-lines-per-function, complexity -- one case per allowed pickle opcode
  #step(op: number, at: number): void {
    switch (op) {
      case OP.PROTO:
        return this.#proto();
      case OP.FRAME:
        return this.#frame();
      case OP.MARK:
        return this.#mark();
      case OP.NONE:
        return this.#push(null);
      case OP.NEWTRUE:
        return this.#push(true);
      case OP.NEWFALSE:
        return this.#push(false);
      case OP.BININT:
        return this.#push(this.#take(4, (p) => this.#view.getInt32(p, true)));
      case OP.BININT1:
        return this.#push(this.#u8());
      case OP.BININT2:
        return this.#push(this.#take(2, (p) => this.#view.getUint16(p, true)));
      case OP.LONG1:
        return this.#push(this.#long(this.#u8()));
      case OP.BINFLOAT:
        return this.#push(this.#take(8, (p) => this.#view.getFloat64(p, false)));
      case OP.SHORT_BINUNICODE:
        return this.#push(this.#string(this.#u8()));
      case OP.BINUNICODE:
        return this.#push(this.#string(this.#u32()));
      case OP.BINUNICODE8:
        return this.#push(this.#string(this.#u64()));
      case OP.SHORT_BINBYTES:
        return this.#push(new Uint8Array(this.#raw(this.#u8())));
      case OP.BINBYTES:
        return this.#push(new Uint8Array(this.#raw(this.#u32())));
      case OP.EMPTY_LIST:
        return this.#push([]);
      case OP.EMPTY_DICT:
        return this.#push(new Map());
      case OP.EMPTY_TUPLE:
        return this.#push(this.#tuple([]));
      case OP.LIST:
        return this.#push(this.#listOf(this.#popMark()));
      case OP.DICT:
        return this.#push(this.#dictOf(this.#popMark()));
      case OP.TUPLE:
        return this.#push(this.#tuple(this.#popMark()));
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3:
        return this.#push(this.#tuple(this.#popN(op - OP.TUPLE1 + 1)));
      case OP.APPEND:
        return this.#append(this.#popN(1));
      case OP.APPENDS:
        return this.#append(this.#popMark());
      case OP.SETITEM:
        return this.#setItems(this.#popN(2));
      case OP.SETITEMS:
        return this.#setItems(this.#popMark());
      case OP.BINPUT:
        return this.#put(this.#u8());
      case OP.LONG_BINPUT:
        return this.#put(this.#u32());
      case OP.MEMOIZE:
        return this.#put(this.#memo.size);
      case OP.BINGET:
        return this.#get(this.#u8());
      case OP.LONG_BINGET:
        return this.#get(this.#u32());
      case OP.GLOBAL:
        return this.#push(this.#global(this.#line(), this.#line()));
      case OP.STACK_GLOBAL:
        return this.#stackGlobal();
      case OP.REDUCE:
        return this.#reduce();
      case OP.BUILD:
        return this.#build();
      case OP.BINPERSID:
        return this.#push(this.#persistentLoad(this.#pop()));
      default:
        throw this.#refuse(
          `holds pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}, which torch.save does not write; RVC Studio reads only the opcodes of model files`,
          'pickle-opcode',
        );
    }
  }

  // ---- reading the byte stream ----

  #need(n: number): number {
    const at = this.#pos;
    if (n > this.#bytes.length - at)
      throw this.#refuse(
        `is damaged: its pickle stops in the middle (at byte ${this.#bytes.length}, ${n} more expected)`,
        'pickle-truncated',
      );
    this.#pos += n;
    return at;
  }

  #take<T>(n: number, read: (at: number) => T): T {
    return read(this.#need(n));
  }

  #u8(): number {
    return this.#bytes[this.#need(1)]!;
  }

  #u32(): number {
    return this.#take(4, (p) => this.#view.getUint32(p, true));
  }

  #u64(): number {
    const value = this.#take(8, (p) => this.#view.getBigUint64(p, true));
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  #raw(length: number): Uint8Array {
    if (length > this.#limits.maxStringBytes)
      throw this.#refuse(
        `holds a ${length}-byte string in its pickle, more than the ${this.#limits.maxStringBytes} allowed`,
        'pickle-limit',
      );
    const at = this.#need(length);
    return this.#bytes.subarray(at, at + length);
  }

  #string(length: number): string {
    const raw = this.#raw(length);
    try {
      return utf8.decode(raw);
    } catch (error) {
      throw this.#refuse('holds a pickle string that is not valid UTF-8', 'pickle-damaged', error);
    }
  }

  /** A text line of GLOBAL (module or name), at most 256 bytes. */
  #line(): string {
    const end = this.#bytes.indexOf(0x0a, this.#pos);
    if (end < 0 || end - this.#pos > 256)
      throw this.#refuse('is damaged: a GLOBAL in its pickle has no proper end of line', 'pickle-damaged');
    const text = this.#string(end - this.#pos);
    this.#pos = end + 1;
    return text;
  }

  #long(length: number): number | bigint {
    if (length > 16) throw this.#refuse(`holds a ${length}-byte integer in its pickle; torch.save writes none that long`, 'pickle-limit');
    const bytes = this.#raw(length);
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (length > 0 && bytes[length - 1]! >= 0x80) value -= 1n << BigInt(8 * length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  #proto(): void {
    const version = this.#u8();
    if (version > 5) throw this.#refuse(`uses pickle protocol ${version}, newer than any torch.save writes`, 'pickle-protocol');
  }

  /** Protocol 4 framing only hints at buffer sizes; the frame must still lie within the pickle. */
  #frame(): void {
    const length = this.#u64();
    if (length > this.#bytes.length - this.#pos) throw this.#refuse('is damaged: a pickle frame runs past its end', 'pickle-truncated');
  }

  // ---- the stack ----

  #push(value: PickleValue): void {
    if (this.#stack.length >= this.#limits.maxStack) throw this.#limit(`its pickle stack grows past ${this.#limits.maxStack} items`);
    if (++this.#values > this.#limits.maxValues) throw this.#limit(`its pickle creates more than ${this.#limits.maxValues} values`);
    this.#stack.push(value);
  }

  #pop(): PickleValue {
    if (this.#stack.length === 0 || this.#stack.length === this.#marks.at(-1))
      throw this.#refuse('is damaged: its pickle takes a value from an empty stack', 'pickle-damaged');
    return this.#stack.pop()!;
  }

  #popN(n: number): PickleValue[] {
    const items: PickleValue[] = [];
    for (let i = 0; i < n; i++) items.unshift(this.#pop());
    return items;
  }

  #mark(): void {
    if (this.#marks.length >= this.#limits.maxMarks) throw this.#limit(`its pickle nests more than ${this.#limits.maxMarks} marks`);
    this.#marks.push(this.#stack.length);
  }

  #popMark(): PickleValue[] {
    const at = this.#marks.pop();
    if (at === undefined) throw this.#refuse('is damaged: its pickle closes a mark it never opened', 'pickle-damaged');
    if (this.#stack.length - at > this.#limits.maxContainerLength)
      throw this.#limit(`a pickle container holds more than ${this.#limits.maxContainerLength} items`);
    return this.#stack.splice(at);
  }

  /** Like Python's unpickler, values below the innermost open mark are out of reach. */
  #top(): PickleValue {
    if (this.#stack.length === 0 || this.#stack.length === this.#marks.at(-1))
      throw this.#refuse('is damaged: its pickle uses a value from an empty stack', 'pickle-damaged');
    return this.#stack.at(-1)!;
  }

  // ---- the memo ----

  #put(index: number): void {
    if (index >= this.#limits.maxMemo)
      throw this.#limit(`its pickle stores memo slot ${index}, beyond the ${this.#limits.maxMemo} allowed`);
    if (!this.#memo.has(index) && this.#memo.size >= this.#limits.maxMemo)
      throw this.#limit(`its pickle memo grows past ${this.#limits.maxMemo} entries`);
    this.#memo.set(index, this.#top());
  }

  #get(index: number): void {
    if (!this.#memo.has(index))
      throw this.#refuse(`is damaged: its pickle refers to memo slot ${index}, which it never stored`, 'pickle-damaged');
    this.#values--; // a reference, not a new value
    this.#push(this.#memo.get(index)!);
  }

  // ---- containers ----

  /** Marks `child` as nested (frozen from now on) and returns its depth. */
  #adopt(child: PickleValue): number {
    if (child === null || typeof child !== 'object' || child instanceof Uint8Array) return 0;
    this.#sealed.add(child);
    return this.#depth.get(child) ?? 0;
  }

  #nest(parent: object, child: PickleValue): void {
    const depth = Math.max(this.#depth.get(parent) ?? 0, this.#adopt(child) + 1);
    if (depth > this.#limits.maxDepth) throw this.#limit(`its pickle nests values more than ${this.#limits.maxDepth} levels deep`);
    this.#depth.set(parent, depth);
  }

  #tuple(items: PickleValue[]): PickleValue[] {
    for (const item of items) this.#nest(items, item);
    return Object.freeze(items) as PickleValue[];
  }

  #listOf(items: PickleValue[]): PickleValue[] {
    const list: PickleValue[] = [];
    this.#extend(list, items);
    return list;
  }

  #dictOf(items: PickleValue[]): PickleDict {
    const dict: PickleDict = new Map();
    this.#fill(dict, items);
    return dict;
  }

  #append(items: PickleValue[]): void {
    const list = this.#top();
    if (!Array.isArray(list) || Object.isFrozen(list))
      throw this.#refuse(`is damaged: its pickle appends to ${describe(list)}`, 'pickle-damaged');
    this.#extend(list, items);
  }

  #extend(list: PickleValue[], items: PickleValue[]): void {
    for (const item of items) {
      this.#nest(list, item);
      this.#mutable(list);
      if (list.length >= this.#limits.maxContainerLength)
        throw this.#limit(`a list in its pickle grows past ${this.#limits.maxContainerLength} items`);
      list.push(item);
    }
  }

  #setItems(items: PickleValue[]): void {
    const dict = this.#top();
    if (!(dict instanceof Map)) throw this.#refuse(`is damaged: its pickle sets items on ${describe(dict)}`, 'pickle-damaged');
    if (items.length % 2 !== 0) throw this.#refuse('is damaged: its pickle gives a dict a key without a value', 'pickle-damaged');
    this.#fill(dict, items);
  }

  #fill(dict: PickleDict, items: PickleValue[]): void {
    for (let i = 0; i + 1 < items.length; i += 2) {
      const key = items[i]!;
      if (key !== null && typeof key === 'object')
        throw this.#refuse(`uses ${describe(key)} as a dict key in its pickle; torch.save writes none`, 'pickle-unsupported');
      this.#nest(dict, items[i + 1]!);
      this.#mutable(dict);
      if (dict.size >= this.#limits.maxContainerLength)
        throw this.#limit(`a dict in its pickle grows past ${this.#limits.maxContainerLength} items`);
      dict.set(key, items[i + 1]!);
    }
  }

  /** Checked after nesting the new child, so a container put inside itself is caught too. */
  #mutable(container: Container): void {
    if (this.#sealed.has(container))
      throw this.#refuse(
        'changes a list or dict after nesting it (or puts it inside itself), which torch.save never does',
        'pickle-unsupported',
      );
  }

  // ---- globals and calls ----

  #global(module: string, name: string): PickleGlobal {
    const qualified = `${module}.${name}`;
    if (!CALLABLES.has(qualified) && !(module === 'torch' && Object.hasOwn(STORAGE_TYPES, name))) {
      throw new UserError(
        msg`${this.#label} asks to run \`${qualified}\`; it is not an RVC model, and RVC Studio never runs code from a model file.`,
        'pickle-global',
      );
    }
    return new PickleGlobal(module, name);
  }

  #stackGlobal(): void {
    const [module, name] = this.#popN(2);
    if (typeof module !== 'string' || typeof name !== 'string')
      throw this.#refuse('is damaged: a STACK_GLOBAL in its pickle names no module and name', 'pickle-damaged');
    this.#push(this.#global(module, name));
  }

  #reduce(): void {
    const args = this.#pop();
    const callable = this.#pop();
    if (!(callable instanceof PickleGlobal)) throw this.#refuse(`is damaged: its pickle calls ${describe(callable)}`, 'pickle-damaged');
    if (!CALLABLES.has(callable.qualifiedName)) {
      throw new UserError(
        msg`${this.#label} asks to call \`${callable.qualifiedName}\`; it is not an RVC model, and RVC Studio never runs code from a model file.`,
        'pickle-global',
      );
    }
    if (!Array.isArray(args) || !Object.isFrozen(args))
      throw this.#refuse(`is damaged: its pickle calls \`${callable.qualifiedName}\` without an argument tuple`, 'pickle-damaged');
    this.#adopt(args);
    this.#push(this.#call(callable.qualifiedName, args));
  }

  #call(callable: string, args: readonly PickleValue[]): PickleValue {
    if (callable === 'collections.OrderedDict') {
      if (args.length !== 0) throw this.#refuse('builds an OrderedDict from arguments, which torch.save never does', 'pickle-unsupported');
      const ordered: PickleDict = new Map();
      orderedDicts.add(ordered);
      return ordered;
    }
    if (callable === 'torch._utils._rebuild_parameter') {
      const [data] = args;
      if (!(data instanceof TorchTensor) || args.length !== 3)
        throw this.#refuse('rebuilds a parameter from something other than a tensor', 'pickle-damaged');
      return data;
    }
    return this.#rebuildTensor(args);
  }

  /** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
  #rebuildTensor(args: readonly PickleValue[]): TorchTensor {
    const [storage, offset, shape, stride] = args;
    if (!(storage instanceof TorchStorage) || args.length < 6 || args.length > 7)
      throw this.#refuse('rebuilds a tensor from arguments torch.save does not write', 'pickle-damaged');
    if (!isCount(offset) || !isCountList(shape) || !isCountList(stride) || shape.length !== stride.length) {
      throw this.#refuse('rebuilds a tensor with a malformed offset, shape or stride', 'pickle-damaged');
    }
    const tensor = new TorchTensor(storage, offset, shape, stride);
    const shapeText = `[${shape.join(', ')}]`;
    if (!(tensor.numel <= this.#limits.maxTensorElements)) {
      throw this.#refuse(`holds a tensor of shape ${shapeText} (${tensor.numel} elements), far beyond any RVC model`, 'pickle-tensor');
    }
    const last = tensor.numel === 0 ? offset : offset + shape.reduce((end, d, i) => end + (d - 1) * stride[i]!, 0);
    if (tensor.numel > 0 && last >= storage.numel) {
      throw this.#refuse(
        `holds a tensor of shape ${shapeText} that reaches past the ${storage.numel} elements of its storage ${storage.key}`,
        'pickle-tensor',
      );
    }
    return tensor;
  }

  /** BUILD sets an object's state; torch.save uses it only to attach `_metadata` to a state dict, which is ignored. */
  #build(): void {
    const state = this.#pop();
    const target = this.#top();
    if (!(target instanceof Map))
      throw this.#refuse(
        `sets the state of ${describe(target)} in its pickle, which torch.save never does for a model`,
        'pickle-unsupported',
      );
    this.#adopt(state);
  }

  /** torch.save's persistent id: `('storage', StorageType, key, location, numel)`. */
  #persistentLoad(pid: PickleValue): TorchStorage {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage')
      throw this.#refuse('refers to an external object that is not a torch storage', 'pickle-damaged');
    const [, type, key, location, numel] = pid;
    if (!(type instanceof PickleGlobal) || type.module !== 'torch' || !Object.hasOwn(STORAGE_TYPES, type.name)) {
      throw this.#refuse(`refers to a storage of unknown type ${describe(type ?? null)}`, 'pickle-damaged');
    }
    if (
      typeof key !== 'string' ||
      !/^[A-Za-z0-9_.-]{1,64}$/.test(key) ||
      key.startsWith('.') ||
      typeof location !== 'string' ||
      !isCount(numel)
    ) {
      throw this.#refuse('refers to a storage with a malformed key, location or size', 'pickle-damaged');
    }
    if (numel > this.#limits.maxTensorElements)
      throw this.#refuse(`holds a storage of ${numel} elements, far beyond any RVC model`, 'pickle-tensor');
    return new TorchStorage(STORAGE_TYPES[type.name]!, key, location, numel);
  }

  // ---- errors ----

  #refuse(what: string, code: string, cause?: unknown): UserError {
    return new UserError(msg`${this.#label} ${what}.`, code, cause === undefined ? undefined : { cause });
  }

  #limit(what: string): UserError {
    return this.#refuse(`is refused: ${what}, which no model file needs`, 'pickle-limit');
  }
}

function isCount(value: PickleValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isCountList(value: PickleValue | undefined): value is number[] {
  return Array.isArray(value) && value.every(isCount);
}

function describe(value: PickleValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return Object.isFrozen(value) ? 'a tuple' : 'a list';
  if (value instanceof Map) return 'a dict';
  if (value instanceof TorchTensor) return 'a tensor';
  if (value instanceof TorchStorage) return 'a storage';
  if (value instanceof PickleGlobal) return `\`${value.qualifiedName}\``;
  if (value instanceof Uint8Array) return 'bytes';
  return `a ${typeof value}`;
}
