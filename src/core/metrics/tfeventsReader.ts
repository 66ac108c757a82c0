import { maskedCrc32c } from './crc32c.ts';
import type { MetricPoint } from './metricPoint.ts';

/**
 * Reads scalars out of TensorBoard `events.out.tfevents.*` files: TFRecord framing
 * (`u64 length | u32 masked_crc(length) | data | u32 masked_crc(data)`, little-endian) around
 * `Event` protobufs. Only what a scalar chart needs is decoded: wall_time, step and
 * summary.value[] with a `simple_value` (PyTorch's add_scalar, what RVC writes) or a one-element
 * float `tensor` (TensorFlow 2 summaries). Images, histograms, audio and text are skipped.
 */

/** Reader state that must survive between incremental reads of the same file. */
export interface TfeventsState {
  /**
   * plugin_name per tag. TF2 writers attach SummaryMetadata to the first value of a tag only, so
   * a later tensor value is classified by what its first one said.
   */
  plugins?: Record<string, string>;
  /** Offset of a record whose length checksum failed: nothing after it can be framed. */
  badLengthAt?: number;
}

export interface TfeventsBadRecord {
  offset: number;
  reason: 'data-crc' | 'length-crc' | 'malformed';
}

export interface TfeventsChunk {
  points: MetricPoint[];
  /** Bytes of `bytes` that were fully handled; a record cut off at the end is left for later. */
  consumed: number;
  badRecords: TfeventsBadRecord[];
  /** True when framing is lost (bad length checksum): reading this file cannot go further. */
  stuck: boolean;
}

const HEADER = 12;
const FOOTER = 4;
/** Larger than any event PyTorch or TensorFlow writes; a bigger length means a damaged header. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * Parses the complete records at the start of `bytes`, which begins at file offset `baseOffset`.
 * A record whose data checksum fails is skipped (its length was verified, so framing is kept); a
 * record whose length checksum fails stops the read, since the next record's start is unknown.
 */
export function parseTfeventsRecords(bytes: Uint8Array, baseOffset: number, state: TfeventsState): TfeventsChunk {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const points: MetricPoint[] = [];
  const badRecords: TfeventsBadRecord[] = [];
  let pos = 0;
  while (bytes.length - pos >= HEADER) {
    const lengthLow = view.getUint32(pos, true);
    const lengthHigh = view.getUint32(pos + 4, true);
    if (view.getUint32(pos + 8, true) !== maskedCrc32c(bytes, pos, pos + 8)) {
      // A header still being written can look like this only if it is incomplete, and then the
      // length check above would not have run; so this is real damage.
      badRecords.push({ offset: baseOffset + pos, reason: 'length-crc' });
      return { points, consumed: pos, badRecords, stuck: true };
    }
    const length = lengthHigh * 2 ** 32 + lengthLow;
    if (length > MAX_RECORD_BYTES) {
      badRecords.push({ offset: baseOffset + pos, reason: 'length-crc' });
      return { points, consumed: pos, badRecords, stuck: true };
    }
    const end = pos + HEADER + length + FOOTER;
    if (end > bytes.length) break; // not written yet: retry when the file grows
    const dataStart = pos + HEADER;
    const dataEnd = dataStart + length;
    if (view.getUint32(dataEnd, true) !== maskedCrc32c(bytes, dataStart, dataEnd)) {
      badRecords.push({ offset: baseOffset + pos, reason: 'data-crc' });
    } else {
      try {
        decodeEvent(bytes, dataStart, dataEnd, state, points);
      } catch {
        badRecords.push({ offset: baseOffset + pos, reason: 'malformed' });
      }
    }
    pos = end;
  }
  return { points, consumed: pos, badRecords, stuck: false };
}

/** The largest record header+footer, so a caller knows how much more to read for a cut record. */
export function recordLengthAt(bytes: Uint8Array, pos: number): number | undefined {
  if (bytes.length - pos < HEADER) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return HEADER + view.getUint32(pos, true) + view.getUint32(pos + 4, true) * 2 ** 32 + FOOTER;
}

// ---- protobuf ---------------------------------------------------------------------------------

class Cursor {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly view: DataView;
  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        // int64 fields encode negatives as 10-byte two's complement.
        return result >= 2 ** 63 ? result - 2 ** 64 : result;
      }
      scale *= 128;
    }
    throw new Error('varint too long');
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  float(): number {
    this.need(4);
    const value = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** Returns [start, end) of a length-delimited field and moves past it. */
  slice(): [number, number] {
    const length = this.varint();
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }

  string(): string {
    const [start, end] = this.slice();
    return textDecoder.decode(this.bytes.subarray(start, end));
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2:
        this.slice();
        return;
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new Error('truncated field');
  }
}

const textDecoder = new TextDecoder();

function decodeEvent(bytes: Uint8Array, start: number, end: number, state: TfeventsState, out: MetricPoint[]): void {
  const c = new Cursor(bytes, start, end);
  let wallTime = 0;
  let step = 0;
  let summary: [number, number] | undefined;
  while (c.pos < end) {
    const key = c.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 1) wallTime = c.double();
    else if (field === 2 && wire === 0) step = c.varint();
    else if (field === 5 && wire === 2) summary = c.slice();
    else c.skip(wire);
  }
  if (!summary) return;
  const s = new Cursor(bytes, summary[0], summary[1]);
  while (s.pos < s.end) {
    const key = s.varint();
    if (key === ((1 << 3) | 2)) {
      const [vs, ve] = s.slice();
      const value = decodeValue(bytes, vs, ve, state);
      if (value) out.push({ tag: value.tag, step, value: value.value, wallTimeMs: wallTime * 1000, epoch: null });
    } else s.skip(key & 7);
  }
}

function decodeValue(bytes: Uint8Array, start: number, end: number, state: TfeventsState): { tag: string; value: number } | undefined {
  const c = new Cursor(bytes, start, end);
  let tag = '';
  let simple: number | undefined;
  let tensor: [number, number] | undefined;
  let plugin: string | undefined;
  while (c.pos < end) {
    const key = c.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 2) tag = c.string();
    else if (field === 2 && wire === 5) simple = c.float();
    else if (field === 8 && wire === 2) tensor = c.slice();
    else if (field === 9 && wire === 2) plugin = pluginName(bytes, c.slice());
    else c.skip(wire);
  }
  if (plugin !== undefined) (state.plugins ??= {})[tag] = plugin;
  if (simple !== undefined) return { tag, value: simple };
  if (!tensor) return undefined;
  const known = state.plugins?.[tag];
  if (known !== undefined && known !== '' && known !== 'scalars') return undefined;
  const value = scalarTensor(bytes, tensor[0], tensor[1]);
  return value === undefined ? undefined : { tag, value };
}

/** SummaryMetadata { PluginData plugin_data = 1 { string plugin_name = 1 } }. */
function pluginName(bytes: Uint8Array, [start, end]: [number, number]): string {
  const c = new Cursor(bytes, start, end);
  while (c.pos < end) {
    const key = c.varint();
    if (key === ((1 << 3) | 2)) {
      const [ps, pe] = c.slice();
      const p = new Cursor(bytes, ps, pe);
      while (p.pos < pe) {
        const k = p.varint();
        if (k === ((1 << 3) | 2)) return p.string();
        p.skip(k & 7);
      }
      return '';
    }
    c.skip(key & 7);
  }
  return '';
}

/** The TensorProto fields a scalar can be read from; the other fields (string_val, int_val, …) are skipped. */
interface TensorFields {
  dtype: number;
  /** Product of the shape's dims: 1 for a scalar (no dims) or a one-element tensor. */
  elements: number;
  /** tensor_content: the elements as raw little-endian bytes, which TF writes in place of the typed lists. */
  content: [number, number] | undefined;
  floats: number[];
  doubles: number[];
  /** half_val: each half's 16 bits in an int32, as TF stores them. */
  halves: number[];
}

type TypedList = 'floats' | 'doubles' | 'halves';

/**
 * The repeated value fields by field number: the wire type of a lone value and how to read it.
 * proto3 writers pack them (wire type 2), but a reader must accept either encoding.
 */
const TYPED_LISTS = new Map<number, { list: TypedList; wire: number; read: (c: Cursor) => number }>([
  [5, { list: 'floats', wire: 5, read: (c) => c.float() }],
  [6, { list: 'doubles', wire: 1, read: (c) => c.double() }],
  [13, { list: 'halves', wire: 0, read: (c) => c.varint() }],
]);

function readTensorFields(bytes: Uint8Array, start: number, end: number): TensorFields {
  const t: TensorFields = { dtype: 0, elements: 1, content: undefined, floats: [], doubles: [], halves: [] };
  const c = new Cursor(bytes, start, end);
  while (c.pos < end) {
    const key = c.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    const typed = TYPED_LISTS.get(field);
    if (field === 1 && wire === 0) t.dtype = c.varint();
    else if (field === 2 && wire === 2) t.elements = shapeElements(bytes, c.slice());
    else if (field === 4 && wire === 2) t.content = c.slice();
    else if (typed && wire === 2) readPacked(bytes, c.slice(), (p) => t[typed.list].push(typed.read(p)));
    else if (typed && wire === typed.wire) t[typed.list].push(typed.read(c));
    else c.skip(wire);
  }
  return t;
}

/** How each scalar dtype is read: its width in tensor_content, and the typed list that holds it otherwise. */
interface ScalarDtype {
  width: number;
  fromContent: (view: DataView, at: number) => number;
  fromList: (t: TensorFields) => number | undefined;
}

const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_HALF = 19;
const SCALAR_DTYPES = new Map<number, ScalarDtype>([
  [DT_FLOAT, { width: 4, fromContent: (view, at) => view.getFloat32(at, true), fromList: (t) => t.floats[0] }],
  [DT_DOUBLE, { width: 8, fromContent: (view, at) => view.getFloat64(at, true), fromList: (t) => t.doubles[0] }],
  [
    DT_HALF,
    {
      width: 2,
      fromContent: (view, at) => halfToNumber(view.getUint16(at, true)),
      fromList: (t) => (t.halves[0] === undefined ? undefined : halfToNumber(t.halves[0])),
    },
  ],
]);

/** A one-element float/double/half TensorProto as a number; anything else is not a scalar. */
function scalarTensor(bytes: Uint8Array, start: number, end: number): number | undefined {
  const t = readTensorFields(bytes, start, end);
  const dtype = SCALAR_DTYPES.get(t.dtype);
  if (t.elements !== 1 || !dtype) return undefined;
  // tensor_content of another length is not this dtype's one element: fall back to the typed list.
  if (t.content && t.content[1] - t.content[0] === dtype.width) {
    return dtype.fromContent(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), t.content[0]);
  }
  return dtype.fromList(t);
}

function readPacked(bytes: Uint8Array, [start, end]: [number, number], read: (c: Cursor) => void): void {
  const p = new Cursor(bytes, start, end);
  while (p.pos < end) read(p);
}

/** TensorShapeProto { repeated Dim dim = 2 { int64 size = 1 } }: the element count. */
function shapeElements(bytes: Uint8Array, [start, end]: [number, number]): number {
  const c = new Cursor(bytes, start, end);
  let count = 1;
  while (c.pos < end) {
    const key = c.varint();
    if (key === ((2 << 3) | 2)) {
      const [ds, de] = c.slice();
      const d = new Cursor(bytes, ds, de);
      let size = 0;
      while (d.pos < de) {
        const k = d.varint();
        if (k === ((1 << 3) | 0)) size = d.varint();
        else d.skip(k & 7);
      }
      count *= size;
    } else c.skip(key & 7);
  }
  return count;
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
