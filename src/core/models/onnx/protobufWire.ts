/**
 * The protobuf wire format, as far as ONNX files need it. ONNX is a handful of messages whose
 * fields are varints, length-delimited bytes and floats; writing and walking them is a page of
 * code, smaller than a protobuf runtime plus a compiled onnx.proto. Encoded messages stay lists
 * of buffers, so a 100 MB initializer is referenced, never copied, until the file is written.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

export class ProtoWriter {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  parts(): readonly Buffer[] {
    return this.chunks;
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  private tag(field: number, wire: number): void {
    this.push(encodeVarint(BigInt((field << 3) | wire)));
  }

  /** int32/int64/enum/bool; negative values take ten bytes, as protobuf's int64 does. */
  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.push(encodeVarint(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Buffer | Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.push(encodeVarint(BigInt(value.byteLength)));
    this.push(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, inner: ProtoWriter): this {
    this.tag(field, WIRE_BYTES);
    this.push(encodeVarint(BigInt(inner.byteLength)));
    for (const chunk of inner.parts()) this.push(chunk);
    return this;
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const body = Buffer.concat(values.map((v) => encodeVarint(BigInt.asUintN(64, BigInt(v)))));
    return this.bytes(field, body);
  }

  packedFloats(field: number, values: readonly number[]): this {
    return this.bytes(field, Buffer.from(Float32Array.from(values).buffer));
  }
}

export function encodeVarint(value: bigint): Buffer {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
}

export interface ProtoField {
  field: number;
  wire: number;
  /** Varint fields as a bigint (two's complement for negatives is the reader's business). */
  varint?: bigint;
  /** Length-delimited fields: a view into the source buffer, not a copy. */
  bytes?: Buffer;
  fixed?: Buffer;
}

/** Walks the top-level fields of one encoded message; throws on bytes that are not protobuf. */
export function* readFields(buffer: Buffer): Generator<ProtoField> {
  let pos = 0;
  while (pos < buffer.length) {
    const [key, afterKey] = decodeVarint(buffer, pos);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new Error('field number 0');
    if (wire === WIRE_VARINT) {
      const [value, next] = decodeVarint(buffer, pos);
      pos = next;
      yield { field, wire, varint: value };
    } else if (wire === WIRE_BYTES) {
      const [length, next] = decodeVarint(buffer, pos);
      const end = next + Number(length);
      if (length > BigInt(buffer.length) || end > buffer.length) throw new Error('length past the end');
      pos = end;
      yield { field, wire, bytes: buffer.subarray(next, end) };
    } else if (wire === WIRE_FIXED32 || wire === WIRE_FIXED64) {
      const size = wire === WIRE_FIXED32 ? 4 : 8;
      if (pos + size > buffer.length) throw new Error('fixed field past the end');
      yield { field, wire, fixed: buffer.subarray(pos, pos + size) };
      pos += size;
    } else {
      throw new Error(`wire type ${wire}`);
    }
  }
}

export function decodeVarint(buffer: Buffer, start: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let pos = start; pos < buffer.length && shift < 70n; pos++) {
    const byte = buffer[pos]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos + 1];
    shift += 7n;
  }
  throw new Error('truncated varint');
}

/** Repeated int64 fields arrive packed (one bytes field) or one varint each; both are legal. */
export function readInts(field: ProtoField): bigint[] {
  if (field.varint !== undefined) return [BigInt.asIntN(64, field.varint)];
  const out: bigint[] = [];
  const bytes = field.bytes ?? Buffer.alloc(0);
  let pos = 0;
  while (pos < bytes.length) {
    const [value, next] = decodeVarint(bytes, pos);
    out.push(BigInt.asIntN(64, value));
    pos = next;
  }
  return out;
}
